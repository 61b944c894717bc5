// What payments keeps, declared once: each collection's documents and indexes as a mongoose schema.
// The one file of the package that imports mongoose; which paths go through mongoose and which
// through the driver collection is docs/adr/0002-mongoose-models.md.
import {
  LOG_INDEXES,
  type AppliedEventDocument,
  type LogDocument,
  type Money,
  type ProjectionDocument,
} from "@ticketing/shared-events";
import { Schema, type Connection, type Model, type mongo } from "mongoose";
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

/**
 * Ids are strings, never ObjectIds; no `__v` (a payment's version is its log's); a filter on a
 * path the schema does not declare throws instead of going out uncast.
 */
const options = { versionKey: false, id: false, strictQuery: "throw" } as const;

const money = { amount: Number, currency: String };

/** An aggregate log's document (written by shared-events' AggregateLog) and its sweeps' indexes. */
function logSchema(collection: string) {
  const schema = new Schema<LogDocument>(
    {
      _id: String,
      eventId: String,
      aggregateId: String,
      version: Number,
      subject: String,
      data: Schema.Types.Mixed,
      occurredAt: Date,
      causationId: String,
      requestId: String,
      published: Boolean,
      projected: Boolean,
    } satisfies Record<keyof LogDocument, unknown>,
    { ...options, collection },
  );
  for (const key of LOG_INDEXES) schema.index(key);
  return schema;
}

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
  { ...options, collection: PAYMENT_LOG.projectionCollection },
);

const orderReplica = new Schema<OrderReplica>(
  {
    _id: String,
    buyerId: String,
    total: money,
    status: String,
    expiresAt: String,
    version: Number,
  } satisfies Record<keyof OrderReplica, unknown>,
  { ...options, collection: "order_replica" },
);

/** Written through mongoose (validated) once per intent. */
const intentSecrets = new Schema<IntentSecret>(
  {
    _id: { type: String, required: true },
    orderId: { type: String, required: true },
    clientSecret: { type: String, required: true },
  } satisfies Record<keyof IntentSecret, unknown>,
  { ...options, collection: "intent_secrets" },
);

/** The Stripe events whose effect is done (shared-events' `AppliedEvents`). */
const stripeEvents = new Schema<AppliedEventDocument>(
  { _id: String, appliedAt: Date } satisfies Record<keyof AppliedEventDocument, unknown>,
  { ...options, collection: "stripe_events" },
);

/**
 * Compiles the models on the service's connection and creates their indexes before anything uses
 * them: mongoose sends one `createIndex` per index, one after another (FerretDB drops the
 * connection on a `createIndexes` naming two or more that exist).
 */
export async function openModels(connection: Connection) {
  const models = {
    paymentEvents: connection.model("PaymentEvent", paymentEvents),
    payments: connection.model("Payment", payments),
    orderReplica: connection.model("OrderReplica", orderReplica),
    intentSecrets: connection.model("IntentSecret", intentSecrets),
    stripeEvents: connection.model("StripeEvent", stripeEvents),
  };
  for (const model of Object.values(models)) await model.createIndexes();
  return models;
}

export type PaymentModels = Awaited<ReturnType<typeof openModels>>;

/** The documents of a model, whatever its other type parameters (they make `Model` invariant). */
type DocumentOf<M> =
  M extends Model<infer T extends mongo.Document, infer _Q, infer _M, infer _V, infer _H, infer _S, infer _L>
    ? T
    : never;

/**
 * The model's collection as the driver's, typed by its documents: for the paths whose command is
 * the decision (the log's insert, the replica's writes by `_id`), sent as written.
 */
export function driverCollection<M extends Pick<Model<never>, "collection">>(
  model: M,
): mongo.Collection<DocumentOf<M>> {
  return model.collection as unknown as mongo.Collection<DocumentOf<M>>;
}
