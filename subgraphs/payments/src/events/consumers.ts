// What payments follows on the stream: orders' events keep the order replica, and
// `order.refund_required` turns into a Stripe refund. Each handler is safe to run twice: the
// replica is version-ordered, the refund carries an idempotency key and its append a causationId.
import type { NatsConnection } from "@nats-io/transport-node";
import { startConsumer, type RunningConsumer } from "@ticketing/shared-events";
import type { Logger } from "pino";
import type { PaymentStore } from "../data/store.js";
import type { Payments } from "../payments.js";

export const CONSUMERS = {
  orders: { durable: "payments-orders", filterSubject: "ticketing.order.>" },
} as const;

export type ConsumerNames = Partial<Record<keyof typeof CONSUMERS, string>>;

export async function startPaymentConsumers(
  nc: NatsConnection,
  { payments, store, logger }: { payments: Payments; store: PaymentStore; logger: Logger },
  names: ConsumerNames = {},
): Promise<RunningConsumer[]> {
  return [
    await startConsumer({
      nc,
      durable: names.orders ?? CONSUMERS.orders.durable,
      filterSubject: CONSUMERS.orders.filterSubject,
      logger,
      // A gap in an order's versions waits for the missing one: retry soon. A refund Stripe cannot
      // take now (an outage) keeps being retried for about an hour and a half before it is
      // dead-lettered for OPS.
      backoffMs: [50, 100, 250, 500, 1_000, 2_000, 5_000, 15_000, 30_000],
      maxDeliver: 200,
      handlers: {
        "ticketing.order.created": (event) => store.applyOrder(event),
        "ticketing.order.cancelled": (event) => store.applyOrder(event),
        "ticketing.order.expired": (event) => store.applyOrder(event),
        "ticketing.order.completed": (event) => store.applyOrder(event),
        "ticketing.order.refund_required": async (event) => {
          // The refund first: a failure leaves the replica behind, so the redelivery refunds again.
          await payments.refundRequired(event.data, event.id);
          await store.applyOrder(event);
        },
      },
    }),
  ];
}
