import { setTimeout as sleep } from "node:timers/promises";
import { eventually } from "@ticketing/testkit";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newEmail, PASSWORD, ME, SIGN_IN, signUp, startAuth, type RunningAuth } from "./support.js";

const REQUEST = `mutation ($email: String!) { requestPasswordReset(email: $email) { message developmentNote } }`;
const RESET = `mutation ($token: String!, $password: String!) { resetPassword(token: $token, password: $password) }`;

/** The service's log lines, as the links are written there for want of a mail server. */
const lines: Record<string, unknown>[] = [];
const logger = pino(
  { level: "info" },
  { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) },
);
const linkFor = (userId: string) =>
  lines.findLast((line) => line.userId === userId && typeof line.resetLink === "string")?.resetLink as
    string | undefined;
const tokenOf = (link: string | undefined) => new URL(link ?? "http://x/").searchParams.get("token") ?? "";

let auth: RunningAuth;
let brief: RunningAuth;
beforeAll(async () => {
  [auth, brief] = await Promise.all([
    startAuth({ PUBLIC_ORIGIN: "https://tickets.example" }, { logger }),
    // Links that work for 0.3 s.
    startAuth({ PASSWORD_RESET_MINUTES: "0.005" }, { logger }),
  ]);
});
afterAll(async () => {
  await Promise.all([auth?.close(), brief?.close()]);
});

describe("password reset", () => {
  it("answers the same for any email, and writes a link only for an account's", async () => {
    const { user, email } = await signUp(auth);
    const known = await auth.graphql(REQUEST, { variables: { email: email.toUpperCase() } });
    const unknown = await auth.graphql(REQUEST, { variables: { email: newEmail("nobody") } });
    expect(known.data).toEqual(unknown.data);
    expect(known.data).toEqual({
      requestPasswordReset: {
        message: expect.stringContaining("If an account has this email") as string,
        developmentNote: "No mail server is configured here: the link is written to the auth service's log.",
      },
    });
    const link = linkFor(user.id);
    expect(link).toMatch(/^https:\/\/tickets\.example\/reset-password\?token=[\w-]{43}$/);
    expect(lines.filter((line) => typeof line.resetLink === "string")).toHaveLength(1);
  });

  it("sets the new password once, ends the account's sessions, and refuses the link a second time", async () => {
    const { user, email, token: session } = await signUp(auth);
    await auth.graphql(REQUEST, { variables: { email } });
    const token = tokenOf(linkFor(user.id));
    const short = await auth.graphql(RESET, { variables: { token, password: "short" } });
    expect(short.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "password" });

    const done = await auth.graphql(RESET, { variables: { token, password: "a brand new secret" } });
    expect(done.data).toEqual({ resetPassword: true });
    const signIn = (password: string) => auth.graphql(SIGN_IN, { variables: { input: { email, password } } });
    expect((await signIn(PASSWORD)).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect((await signIn("a brand new secret")).data).toMatchObject({ signIn: { id: user.id } });
    const before = await eventually(
      () => auth.graphql(ME, { token: session }),
      (result) => result.status === 401,
    );
    expect(before.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

    const again = await auth.graphql(RESET, { variables: { token, password: "yet another secret" } });
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "token" });
    expect((await signIn("a brand new secret")).data).toMatchObject({ signIn: { id: user.id } });
  });

  it("refuses a sixth request for one email within the hour, as RATE_LIMITED", async () => {
    const email = newEmail("asker");
    for (let n = 0; n < 5; n++) {
      expect((await auth.graphql(REQUEST, { variables: { email } })).errors).toBeUndefined();
    }
    const sixth = await auth.graphql(REQUEST, { variables: { email } });
    expect(sixth.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED" });
    expect(sixth.errors?.[0]?.message).toMatch(/Too many password reset requests/);
  });

  it("refuses a wrong token and an expired one", async () => {
    const wrong = await auth.graphql(RESET, { variables: { token: "not-a-token", password: PASSWORD } });
    expect(wrong.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "token" });

    const { user, email } = await signUp(brief);
    await brief.graphql(REQUEST, { variables: { email } });
    const token = tokenOf(linkFor(user.id));
    await sleep(400);
    const late = await brief.graphql(RESET, { variables: { token, password: "too late for this" } });
    expect(late.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "token" });
    const signIn = await brief.graphql(SIGN_IN, { variables: { input: { email, password: PASSWORD } } });
    expect(signIn.errors).toBeUndefined();
  });
});
