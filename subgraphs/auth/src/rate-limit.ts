import { createHash } from "node:crypto";
import { rateLimited, refusalCounter } from "@ticketing/shared-runtime";
import type { GraphQLError } from "graphql";
import type { Redis } from "ioredis";
import type { Logger } from "pino";

export interface SignInLimits {
  perEmail: number;
  perAddress: number;
  windowSeconds: number;
}

export interface SignInLimiter {
  /** Counts one attempt for the email and for the address; throws RATE_LIMITED past either limit. */
  attempt(who: { email: string; address: string }): Promise<void>;
}

// A fixed window per key. One script, so the count and its expiry are set together: a key can
// never be left without an expiry and lock someone out for good.
const COUNT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

/** What a limiter counts: its keys in Redis, its label in the refusal metric, its words. */
export interface LimitedAction {
  keyPrefix: string;
  metric: string;
  what: string;
}

export const SIGN_IN: LimitedAction = {
  keyPrefix: "auth:signin",
  metric: "sign_in",
  what: "sign-in attempts",
};
export const PASSWORD_RESET_REQUESTS: LimitedAction = {
  keyPrefix: "auth:reset",
  metric: "password_reset",
  what: "password reset requests",
};
/** Asking for reset links: a few an hour per email, more per address (a household, an office). */
export const PASSWORD_RESET_LIMITS: SignInLimits = { perEmail: 5, perAddress: 30, windowSeconds: 3_600 };

export function rateLimitedError(retryAfter: number, action: LimitedAction = SIGN_IN): GraphQLError {
  return rateLimited(`Too many ${action.what}; try again in ${retryAfter} s`, retryAfter);
}

export function createSignInLimiter(
  redis: Redis,
  limits: SignInLimits,
  logger: Logger,
  action: LimitedAction = SIGN_IN,
): SignInLimiter {
  const windowMs = limits.windowSeconds * 1000;
  const refusals = refusalCounter(action.metric);
  /** Emails are hashed: the key space stays bounded, and Redis holds no addresses of users. */
  const emailKey = (email: string) =>
    `${action.keyPrefix}:email:${createHash("sha256").update(email).digest("base64url")}`;
  const addressKey = (address: string) => `${action.keyPrefix}:address:${address}`;

  async function count(key: string): Promise<{ count: number; ttlMs: number }> {
    const [count, ttlMs] = (await redis.eval(COUNT, 1, key, windowMs)) as [number, number];
    return { count, ttlMs };
  }

  return {
    async attempt({ email, address }) {
      let counts;
      try {
        counts = await Promise.all([
          count(emailKey(email)).then((c) => ({ ...c, limit: limits.perEmail })),
          count(addressKey(address)).then((c) => ({ ...c, limit: limits.perAddress })),
        ]);
      } catch (err) {
        // Without Redis sign-in stays possible; scrypt's cost still slows guessing.
        logger.error({ err }, `${action.what}: rate limit unavailable; attempt allowed`);
        return;
      }
      const over = counts.filter((c) => c.count > c.limit);
      if (over.length === 0) return;
      const retryAfter = Math.max(1, ...over.map((c) => Math.ceil(c.ttlMs / 1000)));
      refusals.inc();
      throw rateLimitedError(retryAfter, action);
    },
  };
}
