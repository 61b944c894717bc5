// What payments keeps besides its payment log: the order replica, the intents' client secrets
// and the Stripe events already taken.
import {
  AppliedEvents,
  collection,
  isDuplicateKey,
  replicaStep,
  RetryLater,
  type Envelope,
  type Money,
} from "@ticketing/shared-events";
import type { Connection } from "mongoose";

export type OrderStatus = "AWAITING_PAYMENT" | "COMPLETE" | "CANCELLED" | "EXPIRED";

/** What paying needs of an order, copied from orders' `order.*` events. */
export interface OrderReplica {
  _id: string;
  buyerId: string;
  total: Money;
  status: OrderStatus;
  expiresAt: string;
  version: number;
}

/**
 * A PaymentIntent's client secret. Kept out of the payment's events (they reach the stream and
 * the ops feed); keyed by intent id, so a racing second intent never overwrites the first's.
 */
interface IntentSecret {
  _id: string;
  orderId: string;
  clientSecret: string;
}

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

export function paymentStore(connection: Connection): PaymentStore {
  const orders = collection<OrderReplica>(connection, "order_replica");
  const secrets = collection<IntentSecret>(connection, "intent_secrets");

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
        await secrets.insertOne({ _id: paymentIntentId, orderId, clientSecret });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
    },

    async secret(paymentIntentId) {
      return (await secrets.findOne({ _id: paymentIntentId }))?.clientSecret ?? null;
    },

    webhookEvents: new AppliedEvents(connection, "stripe_events"),
  };
}
