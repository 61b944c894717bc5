// What passes follows on the stream. Each handler is safe to run twice and in any order: the
// replicas are inserts by id (tickets' version-ordered), and a pass's issue is an append at
// version 1 of an id derived from the order, so a redelivery is a duplicate.
import type { NatsConnection } from "@nats-io/transport-node";
import { startConsumer, type RunningConsumer } from "@ticketing/shared-events";
import type { Logger } from "pino";
import type { PassStore } from "../data/store.js";
import type { Passes } from "../passes.js";

export const CONSUMERS = {
  orders: { durable: "passes-orders", filterSubject: "ticketing.order.>" },
  tickets: { durable: "passes-tickets", filterSubject: "ticketing.ticket.>" },
  users: { durable: "passes-users", filterSubject: "ticketing.user.>" },
} as const;

export type ConsumerNames = Partial<Record<keyof typeof CONSUMERS, string>>;

/** A completion waits for its order's creation or its ticket (another consumer): retry soon. */
const SOON = [50, 100, 250, 500, 1_000, 2_000, 5_000];

export async function startPassConsumers(
  nc: NatsConnection,
  { passes, store, logger }: { passes: Passes; store: PassStore; logger: Logger },
  names: ConsumerNames = {},
): Promise<RunningConsumer[]> {
  const durable = (name: keyof typeof CONSUMERS) => names[name] ?? CONSUMERS[name].durable;
  return Promise.all([
    startConsumer({
      nc,
      durable: durable("orders"),
      filterSubject: CONSUMERS.orders.filterSubject,
      logger,
      backoffMs: SOON,
      maxDeliver: 60,
      handlers: {
        "ticketing.order.created": (event) => store.applyOrderCreated(event.data),
        "ticketing.order.completed": (event) => passes.issue(event.data, event.id),
      },
    }),
    startConsumer({
      nc,
      durable: durable("tickets"),
      filterSubject: CONSUMERS.tickets.filterSubject,
      logger,
      // A gap in a ticket's versions waits for the missing one.
      backoffMs: SOON,
      maxDeliver: 30,
      handlers: {
        "ticketing.ticket.created": async (event) => {
          await store.applyTicket(event.data);
          await passes.listingChanged(event.data, event.id);
        },
        "ticketing.ticket.updated": async (event) => {
          await store.applyTicket(event.data);
          await passes.listingChanged(event.data, event.id);
        },
      },
    }),
    startConsumer({
      nc,
      durable: durable("users"),
      filterSubject: CONSUMERS.users.filterSubject,
      logger,
      handlers: {
        "ticketing.user.registered": (event) => store.applyUser(event.data),
      },
    }),
  ]);
}
