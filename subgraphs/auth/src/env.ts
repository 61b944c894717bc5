import { createPrivateKey, type KeyObject } from "node:crypto";
import { commonEnv, parseEnv, type EnvSource } from "@ticketing/shared-runtime";
import { z } from "zod";

/** Tokens stay short-lived: a copied token is worth at most this long, and renewal re-checks the session. */
export const MAX_TOKEN_TTL_SECONDS = 900;

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
/** A comma-separated list of emails, as auth stores them (trimmed, lower case). */
const emailList = z
  .string()
  .default("")
  .transform((list) =>
    list
      .split(",")
      .map((email) => email.trim().toLowerCase())
      .filter(Boolean),
  );

/**
 * An Ed25519 private key in PKCS#8 PEM (`openssl genpkey -algorithm ed25519`); a PEM written on
 * one line with `\n` escapes is read too. The message never repeats the value.
 */
const signingKey = z
  .string()
  .transform((pem, context): KeyObject => {
    try {
      const key = createPrivateKey(pem.includes("\\n") ? pem.replaceAll("\\n", "\n") : pem);
      if (key.asymmetricKeyType === "ed25519") return key;
      context.addIssue({
        code: "custom",
        message: `must be an Ed25519 key, not ${key.asymmetricKeyType ?? "a secret key"}`,
      });
    } catch {
      context.addIssue({
        code: "custom",
        message: "must be an Ed25519 private key in PKCS#8 PEM (openssl genpkey -algorithm ed25519)",
      });
    }
    return z.NEVER;
  })
  .optional();

const schema = z
  .object({
    ...commonEnv({ port: 4001, authJwksUrl: "http://127.0.0.1:4001/.well-known/jwks.json" }),
    /**
     * A second port serving the JWKS alone, for the services that verify auth's tokens: the network
     * can let them reach the keys and nothing else of auth (no sign-in, no `x-client-ip`). Unset:
     * the JWKS is on PORT only.
     */
    JWKS_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\/\S+$/, "must be a redis:// or rediss:// URL")
      .default("redis://127.0.0.1:6479"),
    OPS_EMAILS: emailList,
    STAFF_EMAILS: emailList,
    /** The SPA's origin, for the links auth hands out (password resets). */
    PUBLIC_ORIGIN: z.url().default("http://localhost:4000"),
    /** How long a password reset link works; fractional so that tests can watch one expire. */
    PASSWORD_RESET_MINUTES: z.coerce
      .number()
      .positive()
      .max(24 * 60)
      .default(30),
    // Fractional days are allowed so that tests can watch a session end.
    SESSION_DAYS: z.coerce.number().positive().max(365).default(30),
    TOKEN_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_TOKEN_TTL_SECONDS)
      .default(MAX_TOKEN_TTL_SECONDS),
    SIGNIN_LIMIT_PER_EMAIL: positiveInt(5),
    SIGNIN_LIMIT_PER_ADDRESS: positiveInt(20),
    SIGNIN_WINDOW_SECONDS: positiveInt(60),
    DEMO_ACCOUNTS: z.enum(["on", "off"]).default("on"),
    /**
     * The signing keys (docs/operations.md, "Rotating the JWT signing keys"): CURRENT signs, NEXT
     * is published ahead of its turn, PREVIOUS still verifies what it signed. Unset: one key that
     * auth generates on first start and keeps in its database (development, tests).
     */
    AUTH_SIGNING_KEY_CURRENT: signingKey,
    AUTH_SIGNING_KEY_NEXT: signingKey,
    AUTH_SIGNING_KEY_PREVIOUS: signingKey,
  })
  .superRefine((env, context) => {
    const {
      AUTH_SIGNING_KEY_CURRENT: current,
      AUTH_SIGNING_KEY_NEXT: next,
      AUTH_SIGNING_KEY_PREVIOUS: previous,
    } = env;
    if (!current !== !next) {
      context.addIssue({
        code: "custom",
        path: [current ? "AUTH_SIGNING_KEY_NEXT" : "AUTH_SIGNING_KEY_CURRENT"],
        message:
          "is required with " +
          (current ? "AUTH_SIGNING_KEY_CURRENT" : "AUTH_SIGNING_KEY_NEXT") +
          ": set both or neither",
      });
    }
    if (previous && !current) {
      context.addIssue({
        code: "custom",
        path: ["AUTH_SIGNING_KEY_PREVIOUS"],
        message: "needs AUTH_SIGNING_KEY_CURRENT and AUTH_SIGNING_KEY_NEXT",
      });
    }
    const keys = [
      ["AUTH_SIGNING_KEY_CURRENT", current],
      ["AUTH_SIGNING_KEY_NEXT", next],
      ["AUTH_SIGNING_KEY_PREVIOUS", previous],
    ] as const;
    for (const [i, [name, key]] of keys.entries()) {
      const same = keys.slice(0, i).find(([, other]) => key && other?.equals(key));
      if (same) context.addIssue({ code: "custom", path: [name], message: `is the same key as ${same[0]}` });
    }
  });

export type AuthEnv = z.output<typeof schema>;

/** Every variable auth reads; the README's table lists exactly these. */
export const ENV_VARIABLES = Object.keys(schema.shape);

export const loadEnv = (source: EnvSource = process.env): AuthEnv => parseEnv(schema, source);
