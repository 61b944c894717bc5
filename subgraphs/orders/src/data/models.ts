// What orders keeps, declared once: each collection's documents and indexes as a mongoose schema.
// The one file of the package that imports mongoose; which paths go through mongoose and which
// through the driver collection is docs/adr/0002-mongoose-models.md.
import type { Money, Payload, ProjectionDocument } from "@ticketing/shared-events";
import { Schema, type Connection } from "mongoose";
import { logSchema, SCHEMA_OPTIONS, withIndexes } from "@ticketing/shared-runtime";
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

/** What orders keeps of a ticket event: every ticket event carries the whole ticket. */
export function ticketReplicaOf(data: Payload<"ticketing.ticket.updated">): TicketReplica {
  return {
    _id: data.id,
    eventId: data.eventId,
    sellerId: data.sellerId,
    price: data.price,
    status: data.status,
    version: data.version,
  };
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

const money = { amount: Number, currency: String };

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
  { ...SCHEMA_OPTIONS, collection: ORDER_LOG.projectionCollection },
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
  { ...SCHEMA_OPTIONS, collection: "ticket_replica" },
);

const reservationLocks = new Schema<ReservationLock>(
  {
    _id: String,
    ticketId: String,
    lockKey: String,
    claimedAt: Date,
    releasedAt: Date,
  } satisfies Record<keyof ReservationLock, unknown>,
  { ...SCHEMA_OPTIONS, collection: "reservation_locks" },
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
  return withIndexes({
    orderEvents: connection.model("OrderEvent", orderEvents),
    orders: connection.model("Order", orders),
    ticketReplica: connection.model("TicketReplica", ticketReplica),
    reservationLocks: connection.model("ReservationLock", reservationLocks),
  });
}

export type OrderModels = Awaited<ReturnType<typeof openModels>>;
