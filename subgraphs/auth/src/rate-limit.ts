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

/** Emails are hashed: the key space stays bounded, and Redis holds no addresses of users. */
const emailKey = (email: string) =>
  `auth:signin:email:${createHash("sha256").update(email).digest("base64url")}`;
const addressKey = (address: string) => `auth:signin:address:${address}`;

export function rateLimitedError(retryAfter: number): GraphQLError {
  return rateLimited(`Too many sign-in attempts; try again in ${retryAfter} s`, retryAfter);
}

export function createSignInLimiter(redis: Redis, limits: SignInLimits, logger: Logger): SignInLimiter {
  const windowMs = limits.windowSeconds * 1000;
  const refusals = refusalCounter("sign_in");

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
        logger.error({ err }, "sign-in rate limit unavailable; attempt allowed");
        return;
      }
      const over = counts.filter((c) => c.count > c.limit);
      if (over.length === 0) return;
      const retryAfter = Math.max(1, ...over.map((c) => Math.ceil(c.ttlMs / 1000)));
      refusals.inc();
      throw rateLimitedError(retryAfter);
    },
  };
}
