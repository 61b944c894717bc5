// What orders keeps besides its order log: the ticket replica and the reservation locks. The
// replica and the locks go through the driver collection (reads and writes by _id, the lock's
// insert as the claim); the queries by other fields through mongoose. A lock's release is not on
// any request's path: releases are written in batches.
import { Batcher, isDuplicateKey, replicaStep, RetryLater, type Payload } from "@ticketing/shared-events";
import type { OrderState } from "../domain/orders.js";
import { driverCollection } from "@ticketing/shared-runtime";
import { ticketReplicaOf, type OrderDocument, type OrderModels, type TicketReplica } from "./models.js";

export interface OrderStore {
  /** Every ticket of the replica, for the tickets held in memory. */
  tickets(): AsyncIterable<TicketReplica>;
  /** Applies a ticket's next version; older ones are skipped, a gap is retried later. */
  applyTicket(data: Payload<"ticketing.ticket.updated">): Promise<void>;
  /**
   * Takes the ticket for the order; false when an open order holds it. A release of the ticket
   * still queued here is written first.
   */
  claim(orderId: string, ticketId: string): Promise<boolean>;
  /** Frees the ticket of an order that ended; settles once its batch is written. */
  release(orderId: string, ticketId: string): Promise<void>;
  /** Settles once the releases queued so far are written. */
  flush(): Promise<void>;
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

  const releases = new Batcher<{ orderId: string; ticketId: string }>(async (batch) => {
    const releasedAt = new Date();
    await locks.bulkWrite(
      batch.map(({ orderId, ticketId }) => ({
        updateOne: {
          filter: { _id: orderId },
          update: { $set: { lockKey: `${ticketId}:${orderId}`, releasedAt } },
        },
      })),
      { ordered: false },
    );
  });
  /** Releases queued and not written yet, by ticket. */
  const releasing = new Map<string, Promise<void>>();

  async function insertLock(orderId: string, ticketId: string) {
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
  }

  return {
    tickets: () => tickets.find({}),

    async applyTicket(data) {
      const stored = await tickets.findOne({ _id: data.id });
      if (replicaStep(stored?.version, data.version) === "skip") return;
      const doc = ticketReplicaOf(data);
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
      if (await insertLock(orderId, ticketId)) return true;
      // The order that held it may have ended here with its release still in a batch.
      const queued = releasing.get(ticketId);
      if (!queued) return false;
      await queued.catch(() => undefined);
      return insertLock(orderId, ticketId);
    },

    release(orderId, ticketId) {
      const written = releases.add({ orderId, ticketId });
      releasing.set(ticketId, written);
      const forget = () => {
        if (releasing.get(ticketId) === written) releasing.delete(ticketId);
      };
      written.then(forget, forget);
      return written;
    },

    flush: () => releases.flush(),

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
