// What payments keeps, declared once: each collection's documents and indexes as a mongoose schema.
// The one file of the package that imports mongoose; which paths go through mongoose and which
// through the driver collection is docs/adr/0002-mongoose-models.md.
import type { AppliedEventDocument, Money, ProjectionDocument, TraceCarrier } from "@ticketing/shared-events";
import { Schema, type Connection } from "mongoose";
import { logSchema, SCHEMA_OPTIONS, withIndexes } from "@ticketing/shared-runtime";
import { PAYMENT_LOG, type PaymentState } from "../domain/payments.js";

export type OrderStatus = "AWAITING_PAYMENT" | "COMPLETE" | "CANCELLED" | "EXPIRED";

/** What paying needs of an order, copied from orders' `order.*` events. */
export interface OrderReplica {
  _id: string;
  buyerId: string;
  total: Money;
  status: OrderStatus;
  expiresAt: string;
  version: number;
  /** The trace of the order's creation: Stripe's word on its payment continues it. */
  trace?: TraceCarrier;
}

/**
 * A PaymentIntent's client secret. Kept out of the payment's events (they reach the stream and
 * the ops feed); keyed by intent id, so a racing second intent never overwrites the first's.
 */
export interface IntentSecret {
  _id: string;
  orderId: string;
  clientSecret: string;
}

export type PaymentDocument = ProjectionDocument<PaymentState>;

const money = { amount: Number, currency: String };

const paymentEvents = logSchema(PAYMENT_LOG.logCollection);

/** One payment per order, keyed by the order id: read by `_id` only. */
const payments = new Schema<PaymentDocument>(
  {
    _id: String,
    id: String,
    orderId: String,
    buyerId: String,
    paymentIntentId: String,
    status: String,
    amount: money,
    received: money,
    refundId: String,
    failureReason: String,
    createdAt: String,
    updatedAt: String,
    version: Number,
    _causes: [String],
  } satisfies Record<keyof PaymentDocument, unknown>,
  { ...SCHEMA_OPTIONS, collection: PAYMENT_LOG.projectionCollection },
);

const orderReplica = new Schema<OrderReplica>(
  {
    _id: String,
    buyerId: String,
    total: money,
    status: String,
    expiresAt: String,
    version: Number,
    trace: Schema.Types.Mixed,
  } satisfies Record<keyof OrderReplica, unknown>,
  { ...SCHEMA_OPTIONS, collection: "order_replica" },
);

/** Written through mongoose (validated) once per intent. */
const intentSecrets = new Schema<IntentSecret>(
  {
    _id: { type: String, required: true },
    orderId: { type: String, required: true },
    clientSecret: { type: String, required: true },
  } satisfies Record<keyof IntentSecret, unknown>,
  { ...SCHEMA_OPTIONS, collection: "intent_secrets" },
);

/** The Stripe events whose effect is done (shared-events' `AppliedEvents`). */
const stripeEvents = new Schema<AppliedEventDocument>(
  { _id: String, appliedAt: Date } satisfies Record<keyof AppliedEventDocument, unknown>,
  { ...SCHEMA_OPTIONS, collection: "stripe_events" },
);

/**
 * Compiles the models on the service's connection and creates their indexes before anything uses
 * them: mongoose sends one `createIndex` per index, one after another (FerretDB drops the
 * connection on a `createIndexes` naming two or more that exist).
 */
export async function openModels(connection: Connection) {
  return withIndexes({
    paymentEvents: connection.model("PaymentEvent", paymentEvents),
    payments: connection.model("Payment", payments),
    orderReplica: connection.model("OrderReplica", orderReplica),
    intentSecrets: connection.model("IntentSecret", intentSecrets),
    stripeEvents: connection.model("StripeEvent", stripeEvents),
  });
}

export type PaymentModels = Awaited<ReturnType<typeof openModels>>;
