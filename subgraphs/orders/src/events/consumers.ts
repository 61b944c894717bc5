// What orders follows on the stream. Each handler is safe to run twice and in any order:
// replica updates are version-ordered, and transitions are appends whose causationId makes a
// second delivery a duplicate.
import type { NatsConnection } from "@nats-io/transport-node";
import { RetryLater, startConsumer, type RunningConsumer } from "@ticketing/shared-events";
import type { Logger } from "pino";
import type { OrderStore } from "../data/store.js";
import type { Orders } from "../orders.js";

export const CONSUMERS = {
  tickets: { durable: "orders-tickets", filterSubject: "ticketing.ticket.>" },
  expiration: { durable: "orders-expiration", filterSubject: "ticketing.expiration.>" },
  payments: { durable: "orders-payments", filterSubject: "ticketing.payment.>" },
} as const;

export type ConsumerNames = Partial<Record<keyof typeof CONSUMERS, string>>;

export async function startOrderConsumers(
  nc: NatsConnection,
  { orders, store, logger }: { orders: Orders; store: OrderStore; logger: Logger },
  names: ConsumerNames = {},
): Promise<RunningConsumer[]> {
  const durable = (name: keyof typeof CONSUMERS) => names[name] ?? CONSUMERS[name].durable;
  return Promise.all([
    startConsumer({
      nc,
      durable: durable("tickets"),
      filterSubject: CONSUMERS.tickets.filterSubject,
      logger,
      // A gap in a ticket's versions waits for the missing one: retry soon.
      backoffMs: [50, 100, 250, 500, 1_000, 2_000],
      maxDeliver: 30,
      handlers: {
        "ticketing.ticket.created": (event) => store.applyTicket(event.data),
        "ticketing.ticket.updated": (event) => store.applyTicket(event.data),
        "ticketing.ticket.reservation_rejected": (event) => orders.rejected(event.data.orderId, event.id),
      },
    }),
    startConsumer({
      nc,
      durable: durable("expiration"),
      filterSubject: CONSUMERS.expiration.filterSubject,
      logger,
      // Holds taken in the same second of an on-sale run out in the same second: an expiry is one
      // insert and a publish, mostly waiting, so many run at once.
      concurrency: 32,
      handlers: {
        "ticketing.expiration.due": async (event) => {
          if ((await orders.expire(event.data.orderId, event.id)) === "early") {
            throw new RetryLater(`order ${event.data.orderId} is not due yet`);
          }
        },
      },
    }),
    startConsumer({
      nc,
      durable: durable("payments"),
      filterSubject: CONSUMERS.payments.filterSubject,
      logger,
      handlers: {
        "ticketing.payment.succeeded": (event) => orders.paid(event.data, event.id),
      },
    }),
  ]);
}
