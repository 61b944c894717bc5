// What payments keeps besides its payment log: the order replica, the intents' client secrets
// and the Stripe events already taken. The replica and the Stripe events go through the driver
// collection (reads and writes by _id); the secrets, written once each, through mongoose.
import {
  AppliedEvents,
  currentTraceCarrier,
  isDuplicateKey,
  replicaStep,
  RetryLater,
  type Envelope,
} from "@ticketing/shared-events";
import { driverCollection } from "@ticketing/shared-runtime";
import { type OrderReplica, type OrderStatus, type PaymentModels } from "./models.js";

export type { OrderReplica } from "./models.js";

export interface PaymentStore {
  order(orderId: string): Promise<OrderReplica | null>;
  /** Applies an order's next version; older ones are skipped, a gap is retried later. */
  applyOrder(event: Envelope<OrderSubject>): Promise<void>;
  saveSecret(orderId: string, paymentIntentId: string, clientSecret: string): Promise<void>;
  secret(paymentIntentId: string): Promise<string | null>;
  /** Stripe event ids whose effect is done: a redelivery is acknowledged and ignored. */
  webhookEvents: AppliedEvents;
}

/** The subjects of orders' log: each is the next version of an order. */
type OrderSubject =
  | "ticketing.order.created"
  | "ticketing.order.cancelled"
  | "ticketing.order.expired"
  | "ticketing.order.completed"
  | "ticketing.order.refund_required";

const STATUS_AFTER: Record<Exclude<OrderSubject, "ticketing.order.created">, OrderStatus | null> = {
  "ticketing.order.cancelled": "CANCELLED",
  "ticketing.order.expired": "EXPIRED",
  "ticketing.order.completed": "COMPLETE",
  "ticketing.order.refund_required": null,
};

/** The trace the order.created handling runs in, kept with the order. */
function traceOf() {
  const trace = currentTraceCarrier();
  return trace ? { trace } : {};
}

export function paymentStore(models: PaymentModels): PaymentStore {
  const orders = driverCollection(models.orderReplica);

  return {
    order: (orderId) => orders.findOne({ _id: orderId }),

    async applyOrder(event) {
      const stored = await orders.findOne({ _id: event.aggregateId });
      if (replicaStep(stored?.version, event.version) === "skip") return;
      if (event.subject === "ticketing.order.created") {
        const { data } = event;
        try {
          await orders.insertOne({
            _id: data.id,
            buyerId: data.buyerId,
            total: data.total,
            status: "AWAITING_PAYMENT",
            expiresAt: data.expiresAt,
            version: event.version,
            ...traceOf(),
          });
        } catch (error) {
          if (isDuplicateKey(error)) throw new RetryLater(`order ${data.id} was created meanwhile`);
          throw error;
        }
        return;
      }
      if (!stored) throw new RetryLater(`order ${event.aggregateId} is not known yet`);
      const status = STATUS_AFTER[event.subject];
      // Versions arrive one at a time per order (a gap waits), so this write has no rival.
      await orders.replaceOne(
        { _id: stored._id },
        { ...stored, ...(status ? { status } : {}), version: event.version },
      );
    },

    async saveSecret(orderId, paymentIntentId, clientSecret) {
      try {
        await models.intentSecrets.create({ _id: paymentIntentId, orderId, clientSecret });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
    },

    async secret(paymentIntentId) {
      return (await models.intentSecrets.findById(paymentIntentId).lean())?.clientSecret ?? null;
    },

    webhookEvents: new AppliedEvents(driverCollection(models.stripeEvents)),
  };
}
