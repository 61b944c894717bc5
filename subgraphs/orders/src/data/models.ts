// What orders keeps, declared once: each collection's documents and indexes as a mongoose schema.
// The one file of the package that imports mongoose; which paths go through mongoose and which
// through the driver collection is docs/adr/0002-mongoose-models.md.
import {
  LOG_INDEXES,
  type LogDocument,
  type Money,
  type Payload,
  type ProjectionDocument,
} from "@ticketing/shared-events";
import { Schema, type Connection, type Model, type mongo } from "mongoose";
import { ORDER_LOG, type OrderState } from "../domain/orders.js";

/** What ordering needs of a ticket, copied from tickets' `ticket.*` events. */
export interface TicketReplica {
  _id: string;
  eventId: string;
  sellerId: string;
  price: Money;
  status: Payload<"ticketing.ticket.updated">["status"];
  version: number;
}

/**
 * The reservation lock of one order. While the order is open `lockKey` is the ticket id, unique
 * across the collection, so of any number of orders for one ticket one insert succeeds. When the
 * order ends its own document is rewritten to `ticketId:orderId`, which frees the ticket id.
 * Nothing ever writes another order's lock, so no read-then-write race remains.
 */
export interface ReservationLock {
  _id: string;
  ticketId: string;
  lockKey: string;
  claimedAt: Date;
  releasedAt: Date | null;
}

export type OrderDocument = ProjectionDocument<OrderState>;

/**
 * Ids are strings, never ObjectIds; no `__v` (an order's version is its log's); a filter on a
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

const orderEvents = logSchema(ORDER_LOG.logCollection);

const orders = new Schema<OrderDocument>(
  {
    _id: String,
    id: String,
    ticketId: String,
    buyerId: String,
    sellerId: String,
    total: money,
    status: String,
    createdAt: String,
    expiresAt: String,
    endedAt: String,
    paymentId: String,
    refundedPayments: [String],
    version: Number,
    _causes: [String],
  } satisfies Record<keyof OrderDocument, unknown>,
  { ...options, collection: ORDER_LOG.projectionCollection },
);
// A buyer's orders and everyone's (OPS), newest first; the sweep's open orders by expiry.
orders.index({ buyerId: 1, createdAt: -1, id: -1 });
orders.index({ createdAt: -1, id: -1 });
orders.index({ status: 1, expiresAt: 1 });

const ticketReplica = new Schema<TicketReplica>(
  {
    _id: String,
    eventId: String,
    sellerId: String,
    price: money,
    status: String,
    version: Number,
  } satisfies Record<keyof TicketReplica, unknown>,
  { ...options, collection: "ticket_replica" },
);

const reservationLocks = new Schema<ReservationLock>(
  {
    _id: String,
    ticketId: String,
    lockKey: String,
    claimedAt: Date,
    releasedAt: Date,
  } satisfies Record<keyof ReservationLock, unknown>,
  { ...options, collection: "reservation_locks" },
);
// The reservation itself: the insert this index refuses is a second open order for the ticket.
reservationLocks.index({ lockKey: 1 }, { unique: true, name: "lockKey_unique" });
// The catch-up's locks still held, oldest first.
reservationLocks.index({ releasedAt: 1, claimedAt: 1 });

/**
 * Compiles the models on the service's connection and creates their indexes before anything uses
 * them: mongoose sends one `createIndex` per index, one after another (FerretDB drops the
 * connection on a `createIndexes` naming two or more that exist).
 */
export async function openModels(connection: Connection) {
  const models = {
    orderEvents: connection.model("OrderEvent", orderEvents),
    orders: connection.model("Order", orders),
    ticketReplica: connection.model("TicketReplica", ticketReplica),
    reservationLocks: connection.model("ReservationLock", reservationLocks),
  };
  for (const model of Object.values(models)) await model.createIndexes();
  return models;
}

export type OrderModels = Awaited<ReturnType<typeof openModels>>;

/** The documents of a model, whatever its other type parameters (they make `Model` invariant). */
type DocumentOf<M> =
  M extends Model<infer T extends mongo.Document, infer _Q, infer _M, infer _V, infer _H, infer _S, infer _L>
    ? T
    : never;

/**
 * The model's collection as the driver's, typed by its documents: for the paths whose command is
 * the decision (the log's insert, the lock's insert, the replica's writes by `_id`), sent as written.
 */
export function driverCollection<M extends Pick<Model<never>, "collection">>(
  model: M,
): mongo.Collection<DocumentOf<M>> {
  return model.collection as unknown as mongo.Collection<DocumentOf<M>>;
}
