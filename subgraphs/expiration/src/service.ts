import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createPublisher, ensureStreams, type RunningConsumer } from "@ticketing/shared-events";
import {
  createLogger,
  createReadiness,
  runShutdownSteps,
  type Logger,
  type ShutdownStep,
} from "@ticketing/shared-runtime";
import type { Redis } from "ioredis";
import type { ExpirationEnv } from "./env.js";
import { createExpirations, type Expirations } from "./expirations.js";
import { ORDERS_CONSUMER, startOrderConsumer } from "./events/orders.js";
import { closeRedis, connectRedis, redisReady } from "./redis.js";
import { createServer, type HealthServer } from "./server.js";

export { loadEnv, ENV_VARIABLES, type ExpirationEnv } from "./env.js";
export { ORDERS_CONSUMER } from "./events/orders.js";
export { JOB_NAME, QUEUE, type ExpirationJob, type ExpirationJobData } from "./expirations.js";
export { dueEventId, jobIdFor } from "./schedule.js";

export interface ExpirationServiceOptions {
  logger?: Logger;
  /** The durable consumer of order.created; tests give each service its own. */
  ordersConsumer?: string;
  /** The BullMQ queue's name and key prefix; tests give each service its own. */
  queue?: { name?: string; prefix?: string };
  /** How long start-up waits for Redis before it gives up. */
  redisTimeoutMs?: number;
}

export interface ExpirationService {
  /** Starts the health endpoints; defaults to PORT and HOST. */
  listen(port?: number, host?: string): Promise<{ port: number; origin: string }>;
  /** The holds' queue and worker, to look at jobs. */
  queue: Expirations["queue"];
  worker: Expirations["worker"];
  /**
   * In order: stop the order consumer, close the worker (running jobs finish), the queue, Redis,
   * NATS (drained), then the health endpoints.
   */
  shutdownSteps: ShutdownStep[];
  /** Runs `shutdownSteps`; rejects when one failed. */
  close(): Promise<void>;
}

/**
 * The whole expiration worker: connects NATS and Redis, makes sure the stream exists, starts the
 * BullMQ worker that publishes expiration.due and the consumer that schedules a hold per
 * order.created, and builds the health server. What main.ts runs and what tests start.
 */
export async function createExpirationService(
  env: ExpirationEnv,
  options: ExpirationServiceOptions = {},
): Promise<ExpirationService> {
  const logger = options.logger ?? createLogger("expiration", env.LOG_LEVEL);
  let nats: NatsConnection | undefined;
  let commands: Redis | undefined;
  let workerConnection: Redis | undefined;
  let expirations: Expirations | undefined;
  let consumer: RunningConsumer | undefined;
  let server: HealthServer | undefined;

  const steps: ShutdownStep[] = [
    {
      name: "stop taking order events",
      run: async () => {
        server?.markClosing();
        await consumer?.stop();
      },
    },
    {
      name: "close the worker, letting running jobs finish",
      run: async () => {
        if (!expirations) return;
        if (workerConnection?.status === "ready") return expirations.worker.close();
        // Redis is away: no running job could complete now, and waiting for one would wait on Redis.
        // Its job is run again (and its event deduplicated) once a worker sees Redis.
        workerConnection?.disconnect();
        await expirations.worker.close(true);
      },
    },
    { name: "close the queue", run: () => expirations?.queue.close() },
    {
      name: "close Redis",
      run: async () => {
        if (commands) await closeRedis(commands);
        if (workerConnection) await closeRedis(workerConnection);
      },
    },
    { name: "close NATS", run: () => nats?.drain() },
    { name: "stop the health endpoints", run: () => server?.close() },
  ];

  try {
    nats = await connect({ servers: env.NATS_URL.split(","), name: "expiration", maxReconnectAttempts: -1 });
    await ensureStreams(nats);
    const publisher = createPublisher(nats);

    commands = connectRedis(env.REDIS_URL, "commands", logger);
    workerConnection = connectRedis(env.REDIS_URL, "worker", logger);
    const timeoutMs = options.redisTimeoutMs ?? 30_000;
    await Promise.all([redisReady(commands, timeoutMs), redisReady(workerConnection, timeoutMs)]);

    const created = createExpirations({
      commands,
      workerConnection,
      publisher,
      logger,
      concurrency: env.EXPIRATION_CONCURRENCY,
      ...(options.queue && { queue: options.queue }),
    });
    expirations = created;
    await Promise.all([created.queue.waitUntilReady(), created.worker.waitUntilReady()]);
    // Every later "ready" is a reconnection.
    commands.on("ready", () => {
      created.rearm().then(
        () => logger.info("Redis is back; the worker knows when the next hold ends"),
        (err: unknown) => logger.warn({ err }, "could not re-arm the worker after Redis came back"),
      );
    });

    consumer = await startOrderConsumer(
      nats,
      { expirations: created, logger },
      options.ordersConsumer ?? ORDERS_CONSUMER.durable,
    );

    logger.info(
      { consumer: options.ordersConsumer ?? ORDERS_CONSUMER.durable, queue: created.queue.name },
      "scheduling order holds",
    );

    const redis = commands;
    const readiness = createReadiness(
      {
        nats,
        checks: {
          redis: async () => (await redis.ping()) === "PONG",
          worker: () => created.worker.isRunning(),
        },
      },
      logger,
    );
    server = createServer({ readiness, logger });
  } catch (error) {
    await runShutdownSteps({ logger, steps, timeoutMs: 5_000 });
    throw error;
  }

  const started = server;
  const { queue, worker } = expirations;
  let closing: Promise<void> | undefined;
  return {
    listen: (port = env.PORT, host = env.HOST) => started.listen(port, host),
    queue,
    worker,
    shutdownSteps: steps,
    close() {
      closing ??= runShutdownSteps({ logger, steps }).then((clean) => {
        if (!clean) throw new Error("the expiration service did not shut down cleanly");
      });
      return closing;
    },
  };
}
