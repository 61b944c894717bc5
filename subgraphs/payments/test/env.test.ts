import { expect, it } from "vitest";
import { loadEnv, SANDBOX_WEBHOOK_SECRET } from "../src/env.js";

it("runs in sandbox mode with nothing set, and needs the webhook secret with a real key", () => {
  const sandbox = loadEnv({});
  expect(sandbox.STRIPE_SECRET_KEY).toBeUndefined();
  expect(sandbox.STRIPE_MOCK_URL).toBe("http://127.0.0.1:12111");
  expect(sandbox.PORT).toBe(4004);
  expect(SANDBOX_WEBHOOK_SECRET).toMatch(/^whsec_/);
  expect(() => loadEnv({ STRIPE_SECRET_KEY: "sk_test_abc" })).toThrow(/STRIPE_WEBHOOK_SECRET/);
  expect(
    loadEnv({ STRIPE_SECRET_KEY: "sk_test_abc", STRIPE_WEBHOOK_SECRET: "whsec_abc" }).STRIPE_SECRET_KEY,
  ).toBe("sk_test_abc");
  expect(() => loadEnv({ STRIPE_WEBHOOK_SECRET: "not-a-secret" })).toThrow(/whsec_/);
});
