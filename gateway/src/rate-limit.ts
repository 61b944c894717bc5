// Rate limits of the public graph, kept in Redis so that every gateway replica counts together:
// a token bucket per API key, and per client address for anonymous use. A bucket holds a
// minute's allowance and refills continuously, so a client may burst up to its limit and then
// goes on at its steady rate. Sign-in has its own, stricter limit in auth.
import { refusalCounter } from "@ticketing/shared-runtime";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Client } from "./api-keys.js";

export interface RateLimits {
  anonymousPerMinute: number;
  /** For keys that have no limit of their own. */
  keyedPerMinute: number;
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
  /** Seconds until the next request would be allowed (when refused). */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /** Takes one request from the client's bucket; undefined when Redis cannot be asked (allowed). */
  take(client: Client): Promise<RateDecision | undefined>;
}

const WINDOW_MS = 60_000;

// One script, so that reading, refilling and taking are one atomic step across replicas. The
// caller's clock is used (Redis keeps only the bucket); PEXPIRE drops a bucket once it is full.
const TOKEN_BUCKET = `
local capacity = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * perMs)
  at = now
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / perMs) + 1000)
return {allowed, tostring(tokens)}
`;

export function limitOf(client: Client, limits: RateLimits): number {
  return client.kind === "partner"
    ? (client.requestsPerMinute ?? limits.keyedPerMinute)
    : limits.anonymousPerMinute;
}

export function bucketOf(client: Client): string {
  return client.kind === "partner" ? `ratelimit:key:${client.keyId}` : `ratelimit:address:${client.address}`;
}

const TAKE_TOKEN = "ticketingTakeToken";

export function createRateLimiter(redis: Redis, limits: RateLimits, logger: Logger): RateLimiter {
  let warnedAt = 0;
  const refused = {
    anonymous: refusalCounter("gateway_anonymous"),
    partner: refusalCounter("gateway_partner"),
  };
  // Sent by its SHA (EVALSHA, the script itself only when Redis does not know it): EVAL would send
  // and hash the whole script with every request.
  if (!(TAKE_TOKEN in redis)) redis.defineCommand(TAKE_TOKEN, { numberOfKeys: 1, lua: TOKEN_BUCKET });
  const takeToken = (
    redis as unknown as Record<typeof TAKE_TOKEN, (...args: (string | number)[]) => Promise<unknown>>
  )[TAKE_TOKEN].bind(redis);
  return {
    async take(client) {
      const limit = limitOf(client, limits);
      const perMs = limit / WINDOW_MS;
      let result: [number, string];
      try {
        result = (await takeToken(bucketOf(client), limit, perMs, Date.now())) as [number, string];
      } catch (err) {
        // Without Redis the graph stays open: the operation limits still bound each request.
        if (Date.now() - warnedAt > 30_000) {
          warnedAt = Date.now();
          logger.error({ err }, "rate limits unavailable; requests are let through");
        }
        return undefined;
      }
      const tokens = Number(result[1]);
      const allowed = result[0] === 1;
      if (!allowed) refused[client.kind].inc();
      return {
        allowed,
        limit,
        remaining: Math.max(0, Math.floor(tokens)),
        resetSeconds: Math.ceil((limit - tokens) / perMs / 1000),
        retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)),
      };
    },
  };
}

/** The limit announced on every response (IETF draft `RateLimit` header fields), and Retry-After on a refusal. */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  return {
    "ratelimit-limit": String(decision.limit),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": String(decision.resetSeconds),
    "ratelimit-policy": `${decision.limit};w=${WINDOW_MS / 1000}`,
    ...(decision.allowed ? {} : { "retry-after": String(decision.retryAfterSeconds) }),
  };
}
