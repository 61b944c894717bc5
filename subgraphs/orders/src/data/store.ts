// What orders keeps besides its order log: the ticket replica and the reservation locks.
import {
  collection,
  ensureIndexes,
  isDuplicateKey,
  replicaStep,
  RetryLater,
  type Money,
  type Payload,
} from "@ticketing/shared-events";
import type { Connection } from "mongoose";
import { ORDER_LOG, type OrderState } from "../domain/orders.js";

type TicketStatus = Payload<"ticketing.ticket.updated">["status"];

/** What ordering needs of a ticket, copied from tickets' `ticket.*` events. */
export interface TicketReplica {
  _id: string;
  eventId: string;
  sellerId: string;
  price: Money;
  status: TicketStatus;
  version: number;
}

/**
 * The reservation lock of one order. While the order is open `lockKey` is the ticket id, unique
 * across the collection, so of any number of orders for one ticket one insert succeeds. When the
 * order ends its own document is rewritten to `ticketId:orderId`, which frees the ticket id.
 * Nothing ever writes another order's lock, so no read-then-write race remains.
 */
interface ReservationLock {
  _id: string;
  ticketId: string;
  lockKey: string;
  claimedAt: Date;
  releasedAt: Date | null;
}

type OrderDoc = OrderState & { _id: string };

export interface OrderStore {
  ensureIndexes(): Promise<void>;
  ticket(ticketId: string): Promise<TicketReplica | null>;
  /** Applies a ticket's next version; older ones are skipped, a gap is retried later. */
  applyTicket(data: Payload<"ticketing.ticket.updated">): Promise<void>;
  /** Takes the ticket for the order; false when an open order holds it. */
  claim(orderId: string, ticketId: string): Promise<boolean>;
  release(orderId: string, ticketId: string): Promise<void>;
  /** Locks still held, oldest first, for the catch-up that releases those of ended orders. */
  heldLocks(claimedBefore: Date): Promise<{ orderId: string; ticketId: string }[]>;
  /** Open orders whose hold has run out. */
  overdue(now: Date, limit: number): Promise<OrderState[]>;
  /** A buyer's orders (every buyer's when `buyerId` is null), newest first, after the cursor. */
  ordersOf(
    buyerId: string | null,
    after: { key: string; id: string } | null,
    limit: number,
  ): Promise<OrderState[]>;
}

const strip = ({ _id: _ignored, _causes: _c, ...rest }: OrderDoc & { _causes?: unknown }): OrderState => rest;

export function orderStore(connection: Connection): OrderStore {
  const tickets = collection<TicketReplica>(connection, "ticket_replica");
  const locks = collection<ReservationLock>(connection, "reservation_locks");
  const orders = collection<OrderDoc>(connection, ORDER_LOG.projectionCollection);

  return {
    async ensureIndexes() {
      await ensureIndexes(locks, [
        { key: { lockKey: 1 }, options: { unique: true, name: "lockKey_unique" } },
        { key: { releasedAt: 1, claimedAt: 1 } },
      ]);
      await ensureIndexes(orders, [
        { key: { buyerId: 1, createdAt: -1, id: -1 } },
        { key: { createdAt: -1, id: -1 } },
        { key: { status: 1, expiresAt: 1 } },
      ]);
    },

    ticket: (ticketId) => tickets.findOne({ _id: ticketId }),

    async applyTicket(data) {
      const stored = await tickets.findOne({ _id: data.id });
      if (replicaStep(stored?.version, data.version) === "skip") return;
      const doc: TicketReplica = {
        _id: data.id,
        eventId: data.eventId,
        sellerId: data.sellerId,
        price: data.price,
        status: data.status,
        version: data.version,
      };
      if (!stored) {
        try {
          await tickets.insertOne(doc);
        } catch (error) {
          if (isDuplicateKey(error)) throw new RetryLater(`ticket ${data.id} was created meanwhile`);
          throw error;
        }
        return;
      }
      // Versions arrive one at a time per ticket (a gap waits), so this write has no rival.
      await tickets.replaceOne({ _id: data.id }, doc);
    },

    async claim(orderId, ticketId) {
      try {
        await locks.insertOne({
          _id: orderId,
          ticketId,
          lockKey: ticketId,
          claimedAt: new Date(),
          releasedAt: null,
        });
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    },

    async release(orderId, ticketId) {
      await locks.updateOne(
        { _id: orderId },
        { $set: { lockKey: `${ticketId}:${orderId}`, releasedAt: new Date() } },
      );
    },

    async heldLocks(claimedBefore) {
      const held = await locks
        .find({ releasedAt: null, claimedAt: { $lt: claimedBefore } })
        .sort({ claimedAt: 1 })
        .limit(500)
        .toArray();
      return held.map((lock) => ({ orderId: lock._id, ticketId: lock.ticketId }));
    },

    async overdue(now, limit) {
      const docs = await orders
        .find({ status: "AWAITING_PAYMENT", expiresAt: { $lte: now.toISOString() } })
        .sort({ expiresAt: 1 })
        .limit(limit)
        .toArray();
      return docs.map(strip);
    },

    async ordersOf(buyerId, after, limit) {
      const filters: object[] = [];
      if (buyerId !== null) filters.push({ buyerId });
      if (after) {
        filters.push({
          $or: [{ createdAt: { $lt: after.key } }, { createdAt: after.key, id: { $lt: after.id } }],
        });
      }
      const docs = await orders
        .find(filters.length > 0 ? { $and: filters } : {})
        .sort({ createdAt: -1, id: -1 })
        .limit(limit)
        .toArray();
      return docs.map(strip);
    },
  };
}
