import {
  closeRedis,
  commonSettings,
  connectRedis,
  createReadiness,
  defineService,
  redisReady,
  type ServiceContext,
  type ServiceOptions,
} from "@ticketing/shared-runtime";
import { loadEnv, type ExpirationEnv } from "./env.js";
import { createExpirations } from "./expirations.js";
import { ORDERS_CONSUMER, startOrderConsumer } from "./events/orders.js";
import { createServer } from "./server.js";

export { loadEnv, ENV_VARIABLES, type ExpirationEnv } from "./env.js";
export { ORDERS_CONSUMER } from "./events/orders.js";
export { JOB_NAME, QUEUE, type ExpirationJob, type ExpirationJobData } from "./expirations.js";
export { dueEventId, jobIdFor } from "./schedule.js";

export interface ExpirationServiceOptions extends ServiceOptions {
  /** The durable consumer of order.created; tests give each service its own. */
  ordersConsumer?: string;
  /** The BullMQ queue's name and key prefix; tests give each service its own. */
  queue?: { name?: string; prefix?: string };
  /** How long start-up waits for Redis before it gives up. */
  redisTimeoutMs?: number;
}

/**
 * The expiration worker: the BullMQ worker that publishes expiration.due, the consumer that
 * schedules a hold per order.created, and health endpoints.
 */
export const expirationService = defineService({
  name: "expiration",
  loadEnv,
  settings: commonSettings,
  async build(context: ServiceContext<ExpirationEnv, ExpirationServiceOptions>) {
    const { env, options, logger, nats, publisher, readiness, defer, consumers } = context;
    // Adding jobs fails at once while Redis is away, so an order.created is redelivered later
    // instead of waiting on a queue of commands; the worker waits the outage out.
    const commands = connectRedis(env.REDIS_URL, { name: "expiration-commands", mode: "fail-fast", logger });
    const workerConnection = connectRedis(env.REDIS_URL, { name: "expiration-worker", mode: "wait", logger });
    defer("close Redis", async () => {
      await closeRedis(commands);
      await closeRedis(workerConnection);
    });
    const timeoutMs = options.redisTimeoutMs ?? 30_000;
    const answered = await Promise.all([
      redisReady(commands, timeoutMs),
      redisReady(workerConnection, timeoutMs),
    ]);
    if (!answered.every(Boolean)) throw new Error(`Redis did not answer within ${timeoutMs} ms`);

    const expirations = createExpirations({
      commands,
      workerConnection,
      publisher,
      logger,
      concurrency: env.EXPIRATION_CONCURRENCY,
      ...(options.queue && { queue: options.queue }),
    });
    defer("close the queue", () => expirations.queue.close());
    defer("close the worker, letting running jobs finish", async () => {
      if (workerConnection.status === "ready") return expirations.worker.close();
      // Redis is away: no running job could complete now, and waiting for one would wait on Redis.
      // Its job is run again (and its event deduplicated) once a worker sees Redis.
      workerConnection.disconnect();
      await expirations.worker.close(true);
    });
    await Promise.all([expirations.queue.waitUntilReady(), expirations.worker.waitUntilReady()]);
    // Every later "ready" is a reconnection.
    commands.on("ready", () => {
      expirations.rearm().then(
        () => logger.info("Redis is back; the worker knows when the next hold ends"),
        (err: unknown) => logger.warn({ err }, "could not re-arm the worker after Redis came back"),
      );
    });

    const durable = options.ordersConsumer ?? ORDERS_CONSUMER.durable;
    consumers([await startOrderConsumer(nats, { expirations, logger }, durable)]);
    logger.info({ consumer: durable, queue: expirations.queue.name }, "scheduling order holds");

    const server = createServer({
      readiness: createReadiness(
        {
          ...readiness,
          checks: {
            redis: async () => (await commands.ping()) === "PONG",
            worker: () => expirations.worker.isRunning(),
          },
        },
        logger,
      ),
      logger,
    });
    return { server, queue: expirations.queue, worker: expirations.worker };
  },
});

export type ExpirationService = Awaited<ReturnType<typeof expirationService.start>>;
