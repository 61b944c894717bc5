// Expiration follows order.created: each new order gets its hold scheduled. Safe to run twice:
// the job id is the order's, so a redelivery finds the job there and adds nothing.
import type { NatsConnection } from "@nats-io/transport-node";
import { startConsumer, type RunningConsumer } from "@ticketing/shared-events";
import type { Logger } from "pino";
import type { Expirations } from "../expirations.js";

export const ORDERS_CONSUMER = {
  durable: "expiration-orders",
  filterSubject: "ticketing.order.created",
} as const;

// While Redis is away adding a job fails at once; these give it about 20 minutes to come back
// before the event goes to the dead-letter stream (and orders' sweep ends the hold instead).
const MAX_DELIVER = 40;
const BACKOFF_MS = [500, 2_000, 5_000, 15_000, 30_000];

export function startOrderConsumer(
  nc: NatsConnection,
  { expirations, logger }: { expirations: Expirations; logger: Logger },
  durable: string = ORDERS_CONSUMER.durable,
): Promise<RunningConsumer> {
  return startConsumer({
    nc,
    durable,
    filterSubject: ORDERS_CONSUMER.filterSubject,
    logger,
    maxDeliver: MAX_DELIVER,
    backoffMs: BACKOFF_MS,
    handlers: {
      "ticketing.order.created": async (event) => {
        const { id: orderId, expiresAt } = event.data;
        const job = await expirations.schedule({ orderId, expiresAt, causationId: event.id });
        // BullMQ answers an add of an existing job id with that id and changes nothing.
        logger.debug({ orderId, expiresAt, jobId: job.id, eventId: event.id }, "hold scheduled");
      },
    },
  });
}
