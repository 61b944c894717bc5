// The accounts part of the contract, through the gateway over HTTP, against the real auth subgraph.
import { uniqueName } from "@ticketing/testkit";
import { SignJWT, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, ME, SIGN_IN, SIGN_OUT, SIGN_UP, startSystem, type System } from "./support.js";
import { eventually } from "@ticketing/testkit";

const password = "correct horse battery";
const email = () => `${uniqueName("fan")}@example.com`;

describe("accounts through the gateway", () => {
  let system: System;
  let opsEmail: string;
  beforeAll(async () => {
    opsEmail = `${uniqueName("ops")}@example.com`;
    system = await startSystem({ OPS_EMAILS: `someone@example.com, ${opsEmail.toUpperCase()}` });
  });
  afterAll(() => system.stop());

  async function signedUp(address = email()) {
    const browser = new Browser(system.url);
    const result = await browser.graphql<{ signUp: { id: string } }>(SIGN_UP, {
      input: { email: address, password, displayName: "Ada" },
    });
    expect(result.errors).toBeUndefined();
    return { browser, id: result.data!.signUp.id, email: address };
  }

  it("signs up, sets an HttpOnly SameSite=Lax session cookie, and knows the user", async () => {
    const browser = new Browser(system.url);
    const address = email();
    const result = await browser.graphql(SIGN_UP, {
      input: { email: address, password, displayName: " Ada " },
    });

    expect(result.status).toBe(200);
    expect(result.data).toEqual({
      signUp: { id: expect.any(String) as unknown, email: address, displayName: "Ada", roles: ["USER"] },
    });
    const cookie = result.setCookies.find((c) => c.startsWith("session="));
    expect(cookie).toBeDefined();
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).not.toMatch(/; Secure/);
    // The token never reaches the page's JavaScript: only the cookie carries it.
    expect(result.headers.get("x-session-token")).toBeNull();

    const me = await browser.graphql(ME);
    expect(me.data).toEqual({ me: result.data!.signUp });
  });

  it("answers me with null when not signed in", async () => {
    const me = await new Browser(system.url).graphql(ME);
    expect(me.errors).toBeUndefined();
    expect(me.data).toEqual({ me: null });
  });

  it("refuses invalid sign-ups naming the field", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ email: "not-an-email", password, displayName: "Ada" }, "email"],
      [{ email: email(), password: "short", displayName: "Ada" }, "password"],
      [{ email: email(), password: "x".repeat(129), displayName: "Ada" }, "password"],
      [{ email: email(), password, displayName: "   " }, "displayName"],
      [{ email: email(), password, displayName: "x".repeat(51) }, "displayName"],
    ];
    for (const [input, field] of cases) {
      const result = await new Browser(system.url).graphql(SIGN_UP, { input });
      expect(result.status).toBeLessThan(500);
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
      expect(result.setCookies).toEqual([]);
    }
  });

  it("refuses an email already registered, whatever its case", async () => {
    const { email: address } = await signedUp();
    const again = await new Browser(system.url).graphql(SIGN_UP, {
      input: { email: address.toUpperCase(), password, displayName: "Impostor" },
    });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "email" });
  });

  it("signs in with the right password, and gives one answer for a wrong password or email", async () => {
    const { id, email: address } = await signedUp();
    const browser = new Browser(system.url);
    const ok = await browser.graphql(SIGN_IN, { input: { email: address.toUpperCase(), password } });
    expect(ok.data).toMatchObject({ signIn: { id, email: address } });
    expect(browser.sessionCookie).toBeDefined();

    const wrongPassword = await new Browser(system.url).graphql(SIGN_IN, {
      input: { email: address, password: "not the password" },
    });
    const unknownEmail = await new Browser(system.url).graphql(SIGN_IN, {
      input: { email: email(), password },
    });
    for (const refused of [wrongPassword, unknownEmail]) {
      expect(refused.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      expect(refused.setCookies.some((c) => /^session=[^;]/.test(c))).toBe(false);
    }
    expect(wrongPassword.errors?.[0]?.message).toBe(unknownEmail.errors?.[0]?.message);
  });

  it("grants OPS to the emails in OPS_EMAILS", async () => {
    const browser = new Browser(system.url);
    const result = await browser.graphql<{ signUp: { roles: string[] } }>(SIGN_UP, {
      input: { email: opsEmail, password, displayName: "Ops" },
    });
    expect(result.data?.signUp.roles.sort()).toEqual(["OPS", "USER"]);
  });

  it("signs out: clears the cookie, and the old token is refused by the gateway and by auth", async () => {
    const { browser } = await signedUp();
    const token = browser.sessionCookie!;
    const out = await browser.graphql(SIGN_OUT);
    expect(out.data).toEqual({ signOut: true });
    expect(out.setCookies.find((c) => c.startsWith("session="))).toMatch(/Max-Age=0/);
    expect(browser.sessionCookie).toBeUndefined();

    const replay = new Browser(system.url);
    replay.cookies.set("session", token);
    const refused = await eventually(
      () => replay.graphql(ME),
      (result) => result.errors?.[0]?.extensions?.code === "UNAUTHENTICATED",
      1_000,
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

    const direct = await eventually(
      () => system.auth.query(ME, token),
      (result) => result.errors?.[0]?.extensions?.code === "UNAUTHENTICATED",
      1_000,
    );
    expect(direct.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("refuses a forged token at the gateway and at auth, and clears the cookie", async () => {
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const forged = await new SignJWT({ roles: ["USER", "OPS"], sid: "made-up" })
      .setProtectedHeader({ alg: "EdDSA", kid: "made-up" })
      .setSubject("someone")
      .setIssuer("ticketing-auth")
      .setAudience("ticketing")
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(privateKey);
    const browser = new Browser(system.url);
    browser.cookies.set("session", forged);
    const refused = await browser.graphql(ME);
    expect(refused.status).toBeLessThan(500);
    expect(refused.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(refused.setCookies.find((c) => c.startsWith("session="))).toMatch(/Max-Age=0/);
    expect((await system.auth.query(ME, forged)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("renews an expired token while its session lives, and refuses one whose session is gone", async () => {
    const { browser, id } = await signedUp();
    const sessionId = await system.auth.sessionIdOf(browser.sessionCookie!);
    const expired = await system.auth.signToken({ sub: id, sid: sessionId, expiresInSeconds: -60 });
    const renewing = new Browser(system.url);
    renewing.cookies.set("session", expired);
    const me = await renewing.graphql<{ me: { id: string } }>(ME);
    expect(me.data?.me?.id).toBe(id);
    expect(renewing.sessionCookie).toBeDefined();
    expect(renewing.sessionCookie).not.toBe(expired);
    expect((await system.auth.query(ME, expired)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

    const orphan = await system.auth.signToken({ sub: id, sid: "no-such-session", expiresInSeconds: -60 });
    const refused = new Browser(system.url);
    refused.cookies.set("session", orphan);
    expect((await refused.graphql(ME)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});

describe("the public origin", () => {
  let system: System;
  beforeAll(async () => {
    system = await startSystem();
  });
  afterAll(() => system.stop());

  it("refuses a cross-site simple request that carries the session cookie (CSRF)", async () => {
    const browser = new Browser(system.url);
    await browser.graphql(SIGN_UP, { input: { email: email(), password, displayName: "Ada" } });
    const simple = await fetch(`${system.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "text/plain", ...browser.cookieHeader() },
      body: JSON.stringify({ query: "mutation { signOut }" }),
    });
    expect(simple.status).toBe(400);
    const get = await fetch(`${system.url}/graphql?query=${encodeURIComponent("{ me { id } }")}`, {
      headers: browser.cookieHeader(),
    });
    expect(get.status).toBe(400);
    // The session survived: the refused mutation did not run.
    expect((await browser.graphql<{ me: { id: string } | null }>(ME)).data?.me).not.toBeNull();
  });

  it("answers malformed requests with 4xx, never 5xx", async () => {
    const bad = [
      { headers: { "content-type": "application/json" }, body: "{not json" },
      { headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ me { nope } }" }) },
      { headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{" }) },
      { headers: { "content-type": "application/json" }, body: JSON.stringify([1, 2]) },
      { headers: { "content-type": "application/json" }, body: "x".repeat(2_000_000) },
    ];
    for (const init of bad) {
      const response = await fetch(`${system.url}/graphql`, { method: "POST", ...init });
      expect(response.status, init.body.slice(0, 40)).toBeGreaterThanOrEqual(400);
      expect(response.status, init.body.slice(0, 40)).toBeLessThan(500);
    }
  });

  it("gives each response a request id, and keeps the one it was given", async () => {
    const given = await fetch(`${system.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "req-12345" },
      body: JSON.stringify({ query: "{ me { id } }" }),
    });
    expect(given.headers.get("x-request-id")).toBe("req-12345");
    const fresh = await fetch(`${system.url}/healthz`);
    expect(fresh.headers.get("x-request-id")).toMatch(/\S{8,}/);
  });

  it("serves the SPA's files, and its shell for client-side routes", async () => {
    const asset = await fetch(`${system.url}/app.js`);
    expect(asset.status).toBe(200);
    expect(await asset.text()).toContain("console.log");
    const route = await fetch(`${system.url}/events/123`, { headers: { accept: "text/html" } });
    expect(route.status).toBe(200);
    expect(await route.text()).toContain("<title>Ticketing</title>");
    expect(
      (await fetch(`${system.url}/nothing.json`, { headers: { accept: "application/json" } })).status,
    ).toBe(404);
  });

  it("answers liveness and readiness", async () => {
    expect((await fetch(`${system.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${system.url}/readyz`)).status).toBe(200);
  });
});
