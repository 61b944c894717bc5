import { randomInt } from "node:crypto";
import { scrapeMetrics } from "@ticketing/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { newEmail, PASSWORD, SIGN_IN, signUp, startAuth, type RunningAuth } from "./support.js";

let auth: RunningAuth;
beforeAll(async () => {
  auth = await startAuth({
    SIGNIN_LIMIT_PER_EMAIL: "3",
    SIGNIN_LIMIT_PER_ADDRESS: "5",
    SIGNIN_WINDOW_SECONDS: "60",
  });
});
afterAll(() => auth.close());

// Each test signs in from addresses of its own: the Redis counters outlive a test.
const address = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

const signIn = (email: string, password: string, from: string) =>
  auth.graphql(SIGN_IN, {
    variables: { input: { email, password } },
    headers: { "x-client-ip": from },
  });

it("limits attempts per email, counting before the password is checked", async () => {
  const { email } = await signUp(auth);
  for (let i = 0; i < 3; i++) {
    const result = await signIn(email, "wrong password", address());
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  }
  // The right password, from yet another address, in another case: still over the email's limit.
  const limited = await signIn(email.toUpperCase(), PASSWORD, address());
  expect(limited.data).toBeNull();
  expect(limited.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
  const retryAfter = limited.errors?.[0]?.extensions?.retryAfter;
  expect(retryAfter).toEqual(expect.any(Number));
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(limited.headers.get("retry-after")).toBe(String(retryAfter));
  expect(limited.headers.get("x-session-token")).toBeNull();
});

it('counts each refusal in ticketing_rate_limit_refusals_total{limiter="sign_in"}', async () => {
  const refusals = async () =>
    (await scrapeMetrics(`${auth.origin}/metrics`)).value("ticketing_rate_limit_refusals_total", {
      limiter: "sign_in",
    });
  const before = await refusals();
  expect(before).toEqual(expect.any(Number));
  const { email } = await signUp(auth);
  for (let i = 0; i < 3; i++) await signIn(email, "wrong password", address());
  expect((await signIn(email, PASSWORD, address())).errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
  expect((await signIn(email, PASSWORD, address())).errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
  expect(await refusals()).toBe(before! + 2);
});

it("limits attempts per client address, whatever the email", async () => {
  const from = address();
  const { email } = await signUp(auth);
  for (let i = 0; i < 5; i++) {
    const result = await signIn(newEmail("guess"), PASSWORD, from);
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  }
  const limited = await signIn(email, PASSWORD, from);
  expect(limited.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
  // Another address is not affected.
  const elsewhere = await signIn(email, PASSWORD, address());
  expect(elsewhere.errors).toBeUndefined();
  expect(elsewhere.headers.get("x-session-token")).toBeTruthy();
});

it("counts the connection's address when x-client-ip is not an IP address", async () => {
  // All of these come from 127.0.0.1; a junk header must not give each its own counter.
  const from = "not-an-ip";
  const results = [];
  for (let i = 0; i < 6; i++) results.push(await signIn(newEmail("junk"), PASSWORD, from));
  expect(results.some((result) => result.errors?.[0]?.extensions?.code === "RATE_LIMITED")).toBe(true);
});

it("does not limit sign-ups", async () => {
  for (let i = 0; i < 6; i++) await signUp(auth);
});
