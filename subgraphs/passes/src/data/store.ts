// What passes keeps besides its pass log: the replicas of orders, tickets and accounts it issues
// and transfers passes from, and the key codes are signed with. All read and written by _id
// through the driver collection, except the lists of a fan's passes.
import { isDuplicateKey, replicaStep, type Payload } from "@ticketing/shared-events";
import { driverCollection } from "@ticketing/shared-runtime";
import { newPassKey, type StoredPassKey } from "../codes.js";
import type { PassState } from "../domain/passes.js";
import type { OrderReplica, PassesModels, TicketReplica } from "./models.js";

export type { OrderReplica, TicketReplica } from "./models.js";

const CURRENT_KEY = "current";

export interface PassStore {
  order(orderId: string): Promise<OrderReplica | null>;
  applyOrderCreated(data: Payload<"ticketing.order.created">): Promise<void>;
  ticket(ticketId: string): Promise<TicketReplica | null>;
  /** Applies a ticket's next version; older ones are skipped, a gap is retried later. */
  applyTicket(data: Payload<"ticketing.ticket.updated">): Promise<void>;
  userByEmail(email: string): Promise<string | null>;
  applyUser(data: Payload<"ticketing.user.registered">): Promise<void>;
  /** The signing key: the stored one, or a new one unless another replica stored one first. */
  signingKey(): Promise<StoredPassKey>;
  /** Passes the user holds or held, newest first. */
  passesOf(userId: string): Promise<PassState[]>;
  /** Passes offered to the user and not yet accepted. */
  offeredTo(userId: string): Promise<PassState[]>;
}

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

const strip = ({ _id, _causes, ...pass }: PassState & { _id: string; _causes?: string[] }): PassState => pass;

export function passStore(models: PassesModels): PassStore {
  const orders = driverCollection(models.orderReplica);
  const tickets = driverCollection(models.ticketReplica);
  const users = driverCollection(models.userEmails);
  const keys = driverCollection(models.passKeys);
  const passes = driverCollection(models.passes);

  const insertOnce = async (write: () => Promise<unknown>) => {
    try {
      await write();
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  };

  return {
    order: (orderId) => orders.findOne({ _id: orderId }),

    applyOrderCreated: (data) =>
      insertOnce(() => orders.insertOne({ _id: data.id, ticketId: data.ticketId, buyerId: data.buyerId })),

    ticket: (ticketId) => tickets.findOne({ _id: ticketId }),

    async applyTicket(data) {
      const stored = await tickets.findOne({ _id: data.id });
      if (replicaStep(stored?.version, data.version) === "skip") return;
      const doc = {
        _id: data.id,
        eventId: data.eventId,
        title: data.title,
        section: data.section,
        version: data.version,
      };
      // Versions arrive one at a time per ticket (a gap waits), so this write has no rival.
      if (stored) await tickets.replaceOne({ _id: data.id }, doc);
      else await insertOnce(() => tickets.insertOne(doc));
    },

    async userByEmail(email) {
      return (await users.findOne({ _id: normaliseEmail(email) }))?.userId ?? null;
    },

    applyUser: (data) =>
      insertOnce(() => users.insertOne({ _id: normaliseEmail(data.email), userId: data.id })),

    async signingKey() {
      const stored = await keys.findOne({ _id: CURRENT_KEY });
      if (stored) return stored;
      await insertOnce(() => keys.insertOne({ _id: CURRENT_KEY, ...newPassKey() }));
      const winner = await keys.findOne({ _id: CURRENT_KEY });
      if (!winner) throw new Error("the pass key vanished after its insert");
      return winner;
    },

    async passesOf(userId) {
      const docs = await passes.find({ holderIds: userId }).toArray();
      return docs.map(strip).sort((a, b) => latest(b).localeCompare(latest(a)));
    },

    async offeredTo(userId) {
      return (await passes.find({ "pendingTransfer.toId": userId }).toArray()).map(strip);
    },
  };
}

const latest = (pass: PassState) => pass.holdings.at(-1)?.from ?? "";
