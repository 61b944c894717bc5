import { commonEnv, parseEnv, type EnvSource } from "@ticketing/shared-runtime";
import { z } from "zod";

/**
 * The webhook secret of sandbox mode: public on purpose, so that a developer can sign test events
 * by hand. Printed at start. Real Stripe (STRIPE_SECRET_KEY set) needs STRIPE_WEBHOOK_SECRET.
 */
export const SANDBOX_WEBHOOK_SECRET = "whsec_ticketing_sandbox_0000000000000000";

const httpUrl = z.url({ protocol: /^https?$/ });

const schema = z
  .object({
    ...commonEnv({ port: 4004, authJwksUrl: "http://127.0.0.1:4001/.well-known/jwks.json" }),
    /** Real Stripe; unset means sandbox mode against stripe-mock. */
    STRIPE_SECRET_KEY: z
      .string()
      .regex(/^(sk|rk)_(test|live)_\S+$/, "must be a Stripe secret key (sk_test_…, sk_live_…)")
      .optional(),
    /** The `whsec_…` secret webhooks are signed with. */
    STRIPE_WEBHOOK_SECRET: z
      .string()
      .regex(/^whsec_\S+$/, "must be a whsec_… secret")
      .optional(),
    /** The Stripe-compatible mock server of sandbox mode. */
    STRIPE_MOCK_URL: httpUrl.default("http://127.0.0.1:12111"),
    /** Where confirmSandboxPayment delivers its signed webhook; unset: this service's own endpoint. */
    STRIPE_SANDBOX_WEBHOOK_URL: httpUrl.optional(),
  })
  .superRefine((env, context) => {
    if (env.STRIPE_SECRET_KEY && !env.STRIPE_WEBHOOK_SECRET) {
      context.addIssue({
        code: "custom",
        path: ["STRIPE_WEBHOOK_SECRET"],
        message: "is required when STRIPE_SECRET_KEY is set",
      });
    }
  });

export type PaymentsEnv = z.output<typeof schema>;

/** Every variable payments reads; the README's table lists exactly these. */
export const ENV_VARIABLES = Object.keys(schema.shape);

export const loadEnv = (source: EnvSource = process.env): PaymentsEnv => parseEnv(schema, source);

/** Sandbox mode: no Stripe key, stripe-mock instead of Stripe, the fixed webhook secret. */
export const isSandbox = (env: PaymentsEnv) => !env.STRIPE_SECRET_KEY;

export const webhookSecretOf = (env: PaymentsEnv) => env.STRIPE_WEBHOOK_SECRET ?? SANDBOX_WEBHOOK_SECRET;
