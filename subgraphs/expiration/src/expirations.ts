// The holds: one BullMQ delayed job per order, due when the hold ends; running it publishes
// ticketing.expiration.due.
import {
  currentTraceCarrier,
  inConsumerSpan,
  type Publisher,
  type TraceCarrier,
} from "@ticketing/shared-events";
import { metrics } from "@ticketing/shared-runtime";
import { Queue, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import { delayUntil, dueEventId, jobIdFor, retryDelay } from "./schedule.js";

export const QUEUE = { name: "order-expiration", prefix: "ticketing" } as const;
export const JOB_NAME = "expire";

/** A failed publish is retried with `retryDelay` this many times (about 45 minutes). */
const ATTEMPTS = 50;
const DAY_SECONDS = 24 * 3_600;

export interface ExpirationJobData {
  orderId: string;
  expiresAt: string;
  /** The order.created event that scheduled it. */
  causationId: string;
  /** The trace of that event's handling, which the job's run continues. */
  trace?: TraceCarrier;
}

export type ExpirationJob = Job<ExpirationJobData, void, typeof JOB_NAME>;

export interface Hold {
  orderId: string;
  expiresAt: string;
  causationId: string;
}

export interface Expirations {
  queue: Queue<ExpirationJobData, void, typeof JOB_NAME>;
  worker: Worker<ExpirationJobData, void, typeof JOB_NAME>;
  /**
   * Schedules the hold's job at `expiresAt` (at once when that has passed). Adds nothing while a
   * job for the order exists, running or done (completed jobs are kept a day).
   */
  schedule(hold: Hold): Promise<ExpirationJob>;
  /**
   * Tells the worker again when the next hold ends. Run when Redis is back after an outage: the
   * worker's blocking read of that moment was cut off, and Redis re-runs it with its old timeout
   * on reconnection, which would make the next hold late by as long as Redis was away.
   */
  rearm(): Promise<void>;
}

export interface ExpirationsOptions {
  /** For adding jobs: fails fast while Redis is away. */
  commands: Redis;
  /** For the worker: waits out an outage. BullMQ duplicates it for its blocking reads. */
  workerConnection: Redis;
  publisher: Publisher;
  logger: Logger;
  concurrency: number;
  queue?: { name?: string; prefix?: string };
}

export function createExpirations(options: ExpirationsOptions): Expirations {
  const { publisher, logger } = options;
  const lateness = metrics.expirationLateness;
  const name = options.queue?.name ?? QUEUE.name;
  const prefix = options.queue?.prefix ?? QUEUE.prefix;

  const queue = new Queue<ExpirationJobData, void, typeof JOB_NAME>(name, {
    connection: options.commands,
    prefix,
  });
  queue.on("error", (err) => logger.debug({ err }, "queue error"));

  const run = (job: ExpirationJob) =>
    inConsumerSpan(`${name} ${JOB_NAME}`, job.data.trace, { "messaging.system": "bullmq" }, () =>
      expire(job),
    );

  async function expire(job: ExpirationJob) {
    const { orderId, causationId } = job.data;
    // Lateness of each run, retries included: a retry late because of an outage shows as late.
    lateness.observe(Math.max(0, Date.now() - Date.parse(job.data.expiresAt)) / 1_000);
    const published = await publisher.publish(
      "ticketing.expiration.due",
      { orderId },
      { aggregateId: orderId, version: 0, id: dueEventId(orderId), meta: { causationId } },
    );
    logger.info(
      {
        orderId,
        lateMs: Date.now() - Date.parse(job.data.expiresAt),
        attempt: job.attemptsMade + 1,
        duplicate: published.duplicate,
      },
      "hold ended: expiration.due published",
    );
  }

  const worker = new Worker<ExpirationJobData, void, typeof JOB_NAME>(name, run, {
    connection: options.workerConnection,
    prefix,
    concurrency: options.concurrency,
    settings: { backoffStrategy: (attemptsMade) => retryDelay(attemptsMade) },
  });
  // Emitted while Redis is away; the connection's own handler reports the outage.
  worker.on("error", (err) => logger.debug({ err }, "worker error"));
  worker.on("failed", (job, err) => {
    logger.warn(
      { err, orderId: job?.data.orderId, attempt: job?.attemptsMade },
      "expiration.due not published; retrying",
    );
  });

  return {
    queue,
    worker,
    // Resuming a queue that is not paused only writes the next delayed job's time to the marker
    // the worker blocks on (this service never pauses its queue).
    rearm: () => queue.resume(),
    schedule({ orderId, expiresAt, causationId }) {
      const trace = currentTraceCarrier();
      return queue.add(
        JOB_NAME,
        { orderId, expiresAt, causationId, ...(trace && { trace }) },
        {
          jobId: jobIdFor(orderId),
          delay: delayUntil(expiresAt, Date.now()),
          attempts: ATTEMPTS,
          backoff: { type: "capped-exponential" },
          // Kept a day so that a late redelivery of order.created finds it and adds nothing.
          removeOnComplete: { age: DAY_SECONDS },
          // Kept for inspection; orders' sweep expires the order meanwhile.
          removeOnFail: { age: 7 * DAY_SECONDS },
        },
      );
    },
  };
}
