import { randomUUID } from "node:crypto";
import { connectMongo, DEMO_SELLERS } from "@ticketing/shared-runtime";
import { eventually, infra } from "@ticketing/testkit";
import type { Connection } from "mongoose";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../src/passwords.js";
import {
  ME,
  newEmail,
  PASSWORD,
  SIGN_IN,
  SIGN_OUT,
  SIGN_UP,
  signUp,
  startAuth,
  type RunningAuth,
  type UserResult,
} from "./support.js";

const OPS_EMAIL = newEmail("ops");

let auth: RunningAuth;
beforeAll(async () => {
  // The OPS email is configured in another case and with spaces, as an operator might write it.
  auth = await startAuth({ OPS_EMAILS: ` someone@else.example , ${OPS_EMAIL.toUpperCase()} ` });
});
afterAll(() => auth.close());

const signIn = (email: string, password: string) =>
  auth.graphql<{ signIn: UserResult }>(SIGN_IN, { variables: { input: { email, password } } });

describe("signUp", () => {
  it("creates a USER with a normalised email and hands the session to the gateway in headers", async () => {
    const email = newEmail();
    const before = Date.now();
    const result = await auth.graphql<{ signUp: UserResult }>(SIGN_UP, {
      variables: {
        input: { email: `  ${email.toUpperCase()} `, password: PASSWORD, displayName: "  Ann  " },
      },
    });
    expect(result.errors).toBeUndefined();
    expect(result.data?.signUp).toEqual({
      id: expect.any(String) as string,
      email,
      displayName: "Ann",
      roles: ["USER"],
    });
    expect(result.headers.get("x-session-token")).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const expires = Date.parse(result.headers.get("x-session-expires") ?? "");
    const thirtyDays = 30 * 86_400_000;
    expect(expires).toBeGreaterThanOrEqual(before + thirtyDays - 1_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + thirtyDays + 1_000);
    expect(result.headers.get("set-cookie")).toBeNull();
  });

  it("gives OPS to emails in OPS_EMAILS, whatever their case", async () => {
    const { user } = await signUp(auth, { email: OPS_EMAIL });
    expect(user.roles).toEqual(["USER", "OPS"]);
  });

  it.each([
    ["email", { email: "not-an-email" }],
    ["email", { email: "two@@example.com" }],
    ["email", { email: "spaces in@example.com" }],
    ["email", { email: "nodot@example" }],
    ["email", { email: `${"a".repeat(64)}@${"b".repeat(186)}.com` }],
    ["password", { password: "short77" }],
    ["password", { password: "x".repeat(129) }],
    ["displayName", { displayName: "   " }],
    ["displayName", { displayName: "n".repeat(51) }],
  ])("refuses a bad %s with BAD_USER_INPUT naming it (%j)", async (field, override) => {
    const result = await auth.graphql(SIGN_UP, {
      variables: { input: { email: newEmail(), password: PASSWORD, displayName: "Ann", ...override } },
    });
    expect(result.status).toBe(200);
    expect(result.data).toBeNull();
    expect(result.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field });
    expect(result.headers.get("x-session-token")).toBeNull();
  });

  it("accepts the limits themselves: 8 and 128 character passwords, 50 character names, 254 character emails", async () => {
    const longEmail = `${"a".repeat(60)}@${"b".repeat(189)}.com`;
    expect(longEmail).toHaveLength(254);
    await signUp(auth, { email: longEmail, password: "p".repeat(128), displayName: "n".repeat(50) });
    await signUp(auth, { password: "12345678", displayName: "é" });
  });

  it("refuses an email already registered in another case, with field email", async () => {
    const { email } = await signUp(auth);
    const result = await auth.graphql(SIGN_UP, {
      variables: { input: { email: email.toUpperCase(), password: PASSWORD, displayName: "Copy" } },
    });
    expect(result.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "email" });
    expect(result.errors?.[0]?.message).toBe("This email is already registered");
  });

  it("lets exactly one of concurrent sign-ups with one email through", async () => {
    const email = newEmail();
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        auth.graphql<{ signUp: UserResult }>(SIGN_UP, {
          variables: {
            input: { email: i % 2 ? email : email.toUpperCase(), password: PASSWORD, displayName: "Racer" },
          },
        }),
      ),
    );
    expect(results.filter((result) => result.data?.signUp)).toHaveLength(1);
    expect(results.filter((result) => result.errors?.[0]?.extensions?.field === "email")).toHaveLength(4);
  });

  it("answers malformed input with a 4xx, never a 5xx", async () => {
    const missing = await auth.graphql(SIGN_UP, { variables: { input: { email: newEmail() } } });
    expect(missing.status).toBe(400);
    const wrongType = await auth.graphql(SIGN_UP, {
      variables: { input: { email: 42, password: PASSWORD, displayName: "Ann" } },
    });
    expect(wrongType.status).toBe(400);
    const huge = await auth.graphql(SIGN_UP, {
      variables: {
        input: { email: `${"a".repeat(100_000)}@example.com`, password: PASSWORD, displayName: "Ann" },
      },
    });
    expect(huge.errors?.[0]?.extensions).toEqual({ code: "BAD_USER_INPUT", field: "email" });
  });
});

describe("signIn", () => {
  it("signs in with the email in any case and hands over a new session", async () => {
    const { user, email, token: signUpToken } = await signUp(auth);
    const result = await signIn(` ${email.toUpperCase()}`, PASSWORD);
    expect(result.errors).toBeUndefined();
    expect(result.data?.signIn).toEqual(user);
    const token = result.headers.get("x-session-token");
    expect(token).toBeTruthy();
    expect(token).not.toBe(signUpToken);
    expect(Date.parse(result.headers.get("x-session-expires") ?? "")).toBeGreaterThan(Date.now());
  });

  it("gives one UNAUTHENTICATED message for a wrong password and for an unknown email", async () => {
    const { email } = await signUp(auth);
    const wrongPassword = await signIn(email, "not the password");
    const unknownEmail = await signIn(newEmail("nobody"), PASSWORD);
    const invalidEmail = await signIn("not an email", PASSWORD);
    for (const result of [wrongPassword, unknownEmail, invalidEmail]) {
      expect(result.data).toBeNull();
      expect(result.errors).toEqual([
        expect.objectContaining({
          message: "Wrong email or password",
          extensions: { code: "UNAUTHENTICATED" },
        }),
      ]);
      expect(result.headers.get("x-session-token")).toBeNull();
    }
  });

  it("takes about as long for an unknown email as for a wrong password", async () => {
    const { email } = await signUp(auth);
    const time = async (attempt: () => Promise<unknown>) => {
      const started = performance.now();
      await attempt();
      return performance.now() - started;
    };
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      wrong.push(await time(() => signIn(email, `wrong password ${i}`)));
      unknown.push(await time(() => signIn(newEmail("nobody"), PASSWORD)));
    }
    // Both are dominated by one scrypt; without the dummy hash an unknown email answers many times faster.
    const ratio = median(unknown) / median(wrong);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });

  it("registers the user of credentials a crash left without one", async () => {
    const mongo: Connection = await connectMongo(infra().mongoUrl, auth.database, pino({ level: "silent" }));
    try {
      const email = newEmail("orphan");
      const userId = randomUUID();
      await mongo.db!.collection("credentials").insertOne({
        _id: email as never,
        userId,
        passwordHash: await hashPassword(PASSWORD),
        displayName: "Orphan",
        createdAt: new Date(),
      });
      const result = await signIn(email, PASSWORD);
      expect(result.errors).toBeUndefined();
      expect(result.data?.signIn).toEqual({ id: userId, email, displayName: "Orphan", roles: ["USER"] });
      const token = result.headers.get("x-session-token") ?? "";
      const me = await auth.graphql<{ me: UserResult }>(ME, { token });
      expect(me.data?.me?.id).toBe(userId);
      const projection = await mongo.db!.collection("users").findOne({ _id: userId as never });
      expect(projection).toMatchObject({ id: userId, email, version: 1 });
    } finally {
      await mongo.close();
    }
  });
});

describe("me and signOut", () => {
  it("is null when anonymous", async () => {
    const result = await auth.graphql<{ me: UserResult | null }>(ME);
    expect(result.errors).toBeUndefined();
    expect(result.data?.me).toBeNull();
  });

  it("is the signed-in user, email included, with the Bearer token", async () => {
    const { user, token, email } = await signUp(auth);
    const result = await auth.graphql<{ me: UserResult }>(ME, { token });
    expect(result.data?.me).toEqual({ ...user, email });
  });

  it("refuses a malformed or foreign Authorization header", async () => {
    const bad = await auth.graphql(ME, { headers: { authorization: "Basic abc" } });
    expect(bad.status).toBe(401);
    const garbage = await auth.graphql(ME, { token: "not.a.jwt" });
    expect(garbage.status).toBe(401);
    expect(garbage.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("signOut clears the session header, and the token stops being accepted", async () => {
    const { token } = await signUp(auth);
    const out = await auth.graphql<{ signOut: boolean }>(SIGN_OUT, { token });
    expect(out.data?.signOut).toBe(true);
    expect(out.headers.has("x-session-token")).toBe(true);
    expect(out.headers.get("x-session-token")).toBe("");
    expect(out.headers.get("x-session-expires")).toBeNull();

    const after = await eventually(
      () => auth.graphql(ME, { token }),
      (result) => result.status === 401,
    );
    expect(after.status).toBe(401);
    expect(after.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("signOut leaves the user's other sessions alone", async () => {
    const { token, email } = await signUp(auth);
    const other = (await signIn(email, PASSWORD)).headers.get("x-session-token") ?? "";
    await auth.graphql(SIGN_OUT, { token });
    const me = await auth.graphql<{ me: UserResult }>(ME, { token: other });
    expect(me.data?.me?.email).toBe(email);
  });

  it("signOut when anonymous answers true and clears", async () => {
    const out = await auth.graphql<{ signOut: boolean }>(SIGN_OUT);
    expect(out.data?.signOut).toBe(true);
    expect(out.headers.get("x-session-token")).toBe("");
  });
});

describe("User entities", () => {
  const ENTITIES = `query ($representations: [_Any!]!) {
    _entities(representations: $representations) { ... on User { id email displayName roles } }
  }`;
  const resolve = (ids: string[], token?: string) =>
    auth.graphql<{ _entities: (UserResult | null)[] }>(ENTITIES, {
      variables: { representations: ids.map((id) => ({ __typename: "User", id })) },
      token,
    });

  it("has the demo catalog's sellers, whom nobody can sign in as", async () => {
    const demo = await resolve(DEMO_SELLERS.map((seller) => seller.id));
    expect(demo.data?._entities.map((user) => user?.displayName)).toEqual(
      DEMO_SELLERS.map((seller) => seller.displayName),
    );
    const attempt = await auth.graphql(SIGN_IN, {
      variables: { input: { email: `${DEMO_SELLERS[0].id}@demo.ticketing.invalid`, password: PASSWORD } },
    });
    expect(attempt.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("shows an email and the roles to their owner and to OPS only", async () => {
    const alice = await signUp(auth);
    const bob = await signUp(auth);
    const ops = await signIn(OPS_EMAIL, PASSWORD);
    const opsToken = ops.headers.get("x-session-token") ?? "";
    expect(ops.data?.signIn.roles).toContain("OPS");

    const ids = [alice.user.id, bob.user.id];
    const asAlice = await resolve(ids, alice.token);
    expect(asAlice.data?._entities).toEqual([
      { ...alice.user, email: alice.email },
      { ...bob.user, email: null, roles: [] },
    ]);
    const anonymous = await resolve(ids);
    expect(anonymous.data?._entities.map((user) => user?.email)).toEqual([null, null]);
    expect(anonymous.data?._entities.map((user) => user?.roles)).toEqual([[], []]);
    expect(anonymous.data?._entities.map((user) => user?.displayName)).toEqual(["A fan", "A fan"]);
    const asOps = await resolve(ids, opsToken);
    expect(asOps.data?._entities.map((user) => user?.email)).toEqual([alice.email, bob.email]);
    expect(asOps.data?._entities.map((user) => user?.roles)).toEqual([["USER"], ["USER"]]);
    // Who holds OPS is not for everyone to read.
    const opsId = ops.data!.signIn.id;
    expect((await resolve([opsId], alice.token)).data?._entities[0]?.roles).toEqual([]);
  });

  it("resolves a user that does not exist to null", async () => {
    const { user } = await signUp(auth);
    const result = await resolve([randomUUID(), user.id]);
    expect(result.errors).toBeUndefined();
    expect(result.data?._entities[0]).toBeNull();
    expect(result.data?._entities[1]?.id).toBe(user.id);
  });
});
