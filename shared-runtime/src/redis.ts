import { Redis } from "ioredis";
import type { Logger } from "pino";

/** Reconnects forever, never waiting more than 2 s between attempts, so a restarted Redis is found again soon. */
const retryStrategy = (times: number) => Math.min(times * 200, 2_000);

export interface RedisOptions {
  /** Shown by CLIENT LIST and in the logs. */
  name: string;
  /**
   * "fail-fast" (commands on a request path, readiness pings) fails a command at once while Redis
   * is away, so a caller fails or degrades instead of waiting behind a queue of commands;
   * "wait" queues commands through an outage (what BullMQ's worker needs).
   */
  mode: "fail-fast" | "wait";
  logger: Logger;
}

/** A Redis connection that logs an outage once when it starts and once when it ends. */
export function connectRedis(url: string, { name, mode, logger }: RedisOptions): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    retryStrategy,
    connectTimeout: 5_000,
    ...(mode === "fail-fast"
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
      : { maxRetriesPerRequest: null }),
  });
  let down = false;
  redis.on("error", (err: unknown) => {
    if (down) return;
    down = true;
    logger.warn({ err, redis: name }, "Redis connection lost; reconnecting");
  });
  redis.on("ready", () => {
    if (!down) return;
    down = false;
    logger.info({ redis: name }, "Redis connection back");
  });
  return redis;
}

/** Resolves true once the connection is ready, or false when `timeoutMs` passes first. */
export async function redisReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === "ready") return true;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      resolve(false);
    }, timeoutMs);
    function onReady() {
      clearTimeout(timer);
      resolve(true);
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
