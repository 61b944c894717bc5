import { commonEnv, parseEnv, type EnvSource } from "@ticketing/shared-runtime";
import { z } from "zod";

/** Tokens stay short-lived: a copied token is worth at most this long, and renewal re-checks the session. */
export const MAX_TOKEN_TTL_SECONDS = 900;

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const schema = z.object({
  ...commonEnv({ port: 4001, authJwksUrl: "http://127.0.0.1:4001/.well-known/jwks.json" }),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, "must be a redis:// or rediss:// URL")
    .default("redis://127.0.0.1:6479"),
  OPS_EMAILS: z
    .string()
    .default("")
    .transform((list) =>
      list
        .split(",")
        .map((email) => email.trim().toLowerCase())
        .filter(Boolean),
    ),
  // Fractional days are allowed so that tests can watch a session end.
  SESSION_DAYS: z.coerce.number().positive().max(365).default(30),
  TOKEN_TTL_SECONDS: z.coerce.number().int().min(1).max(MAX_TOKEN_TTL_SECONDS).default(MAX_TOKEN_TTL_SECONDS),
  SIGNIN_LIMIT_PER_EMAIL: positiveInt(5),
  SIGNIN_LIMIT_PER_ADDRESS: positiveInt(20),
  SIGNIN_WINDOW_SECONDS: positiveInt(60),
  DEMO_ACCOUNTS: z.enum(["on", "off"]).default("on"),
});

export type AuthEnv = z.output<typeof schema>;

/** Every variable auth reads; the README's table lists exactly these. */
export const ENV_VARIABLES = Object.keys(schema.shape);

export const loadEnv = (source: EnvSource = process.env): AuthEnv => parseEnv(schema, source);
