// What orders keeps besides its order log: the ticket replica and the reservation locks. The
// replica and the locks go through the driver collection (reads and writes by _id, the lock's
// insert as the claim); the queries by other fields through mongoose.
import { isDuplicateKey, replicaStep, RetryLater, type Payload } from "@ticketing/shared-events";
import type { OrderState } from "../domain/orders.js";
import { driverCollection } from "@ticketing/shared-runtime";
import { type OrderDocument, type OrderModels, type TicketReplica } from "./models.js";

export interface OrderStore {
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

const strip = ({ _id: _ignored, _causes: _c, ...rest }: OrderDocument): OrderState => rest;

export function orderStore(models: OrderModels): OrderStore {
  const tickets = driverCollection(models.ticketReplica);
  const locks = driverCollection(models.reservationLocks);

  return {
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
      const held = await models.reservationLocks
        .find({ releasedAt: null, claimedAt: { $lt: claimedBefore } })
        .sort({ claimedAt: 1 })
        .limit(500)
        .lean();
      return held.map((lock) => ({ orderId: lock._id, ticketId: lock.ticketId }));
    },

    async overdue(now, limit) {
      const docs = await models.orders
        .find({ status: "AWAITING_PAYMENT", expiresAt: { $lte: now.toISOString() } })
        .sort({ expiresAt: 1 })
        .limit(limit)
        .lean();
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
      const docs = await models.orders
        .find(filters.length > 0 ? { $and: filters } : {})
        .sort({ createdAt: -1, id: -1 })
        .limit(limit)
        .lean();
      return docs.map(strip);
    },
  };
}
