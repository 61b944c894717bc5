import { Redis } from "ioredis";
import type { Logger } from "pino";

/** Reconnects forever, never waiting more than 2 s between attempts, so a restarted Redis is found again soon. */
const retryStrategy = (times: number) => Math.min(times * 200, 2_000);

export type RedisRole = "commands" | "worker";

/**
 * A Redis connection for one role:
 * - "commands" (adding jobs, readiness pings) fails at once while Redis is away, so an event
 *   handler fails and its event is redelivered later instead of waiting on a queue of commands;
 * - "worker" waits out an outage (`maxRetriesPerRequest: null`, as BullMQ's worker needs).
 * An outage is logged once when it starts and once when it ends.
 */
export function connectRedis(url: string, role: RedisRole, logger: Logger): Redis {
  const redis = new Redis(url, {
    connectionName: `expiration-${role}`,
    retryStrategy,
    connectTimeout: 5_000,
    ...(role === "commands"
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
      : { maxRetriesPerRequest: null }),
  });
  let down = false;
  redis.on("error", (err: unknown) => {
    if (down) return;
    down = true;
    logger.warn({ err, role }, "Redis connection lost; reconnecting");
  });
  redis.on("ready", () => {
    if (!down) return;
    down = false;
    logger.info({ role }, "Redis connection back");
  });
  return redis;
}

/** Resolves once the connection is ready; rejects after `timeoutMs`. */
export async function redisReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      reject(new Error(`Redis did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    function onReady() {
      clearTimeout(timer);
      resolve();
    }
    redis.once("ready", onReady);
  });
}

/** Closes politely, or drops the connection when Redis is not there to say goodbye to. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === "end") return;
  if (redis.status !== "ready") {
    redis.disconnect();
    return;
  }
  await redis.quit().catch(() => redis.disconnect());
}
