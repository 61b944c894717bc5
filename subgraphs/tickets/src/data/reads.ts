import { collection, ensureIndexes, isDuplicateKey, type Money } from "@ticketing/shared-events";
import type { Connection, mongo } from "mongoose";
import type { EventState } from "../domain/catalog.js";
import type { TicketState } from "../domain/tickets.js";
import { EVENT_LOG } from "../domain/catalog.js";
import { TICKET_LOG } from "../domain/tickets.js";

type EventDoc = EventState & { _id: string };
type TicketDoc = TicketState & { _id: string };

export interface EventQuery {
  search?: string;
  cityKey?: string;
  categoryKey?: string;
  startsAfter?: string;
  startsBefore?: string;
  /** The (startsAt, id) of the last event of the previous page. */
  after?: { key: string; id: string } | null;
  limit: number;
}

export interface EventSummary {
  availableTickets: number;
  lowestPrice: Money | null;
}

/** How an order ended, as far as tickets has heard (see events/orders.ts). */
export interface OrderOutcome {
  _id: string;
  ticketId: string;
  outcome: "RELEASED" | "SOLD";
  at: Date;
}

export interface CatalogReads {
  /** Indexes for each query below (MongoDB uses them; FerretDB 1.24 scans). */
  ensureIndexes(): Promise<void>;
  isCatalogEmpty(): Promise<boolean>;
  findEvents(query: EventQuery): Promise<EventState[]>;
  ticketsOfSeller(sellerId: string): Promise<TicketState[]>;
  /** The event's tickets except withdrawn ones, newest first, after the (listedAt, id) cursor. */
  ticketsOfEvent(
    eventId: string,
    after: { key: string; id: string } | null,
    limit: number,
  ): Promise<TicketState[]>;
  summaries(eventIds: readonly string[]): Promise<Map<string, EventSummary>>;
  recordOutcome(outcome: Omit<OrderOutcome, "at">): Promise<void>;
  outcome(orderId: string): Promise<OrderOutcome | null>;
}

const escapeRegex = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const strip = <T extends { _id: string; _causes?: unknown }>({ _id: _ignored, _causes: _c, ...rest }: T) =>
  rest;

export function catalogReads(connection: Connection): CatalogReads {
  const events = collection<EventDoc>(connection, EVENT_LOG.projectionCollection);
  const tickets = collection<TicketDoc>(connection, TICKET_LOG.projectionCollection);
  const outcomes = collection<OrderOutcome>(connection, "order_outcomes");

  return {
    async ensureIndexes() {
      await ensureIndexes(events, [
        { key: { startsAt: 1, _id: 1 } },
        { key: { cityKey: 1, startsAt: 1, _id: 1 } },
        { key: { categoryKey: 1, startsAt: 1, _id: 1 } },
      ]);
      await ensureIndexes(tickets, [
        { key: { eventId: 1, listedAt: -1, _id: -1 } },
        { key: { eventId: 1, status: 1 } },
        { key: { sellerId: 1 } },
      ]);
    },

    async isCatalogEmpty() {
      return (await events.findOne({}, { projection: { _id: 1 } })) === null;
    },

    async findEvents(query) {
      const and: mongo.Filter<EventDoc>[] = [];
      if (query.search) {
        const pattern = { $regex: escapeRegex(query.search), $options: "i" };
        and.push({ $or: [{ name: pattern }, { venue: pattern }, { city: pattern }] });
      }
      if (query.cityKey !== undefined) and.push({ cityKey: query.cityKey });
      if (query.categoryKey !== undefined) and.push({ categoryKey: query.categoryKey });
      if (query.startsAfter !== undefined) and.push({ startsAt: { $gt: query.startsAfter } });
      if (query.startsBefore !== undefined) and.push({ startsAt: { $lt: query.startsBefore } });
      if (query.after) {
        const { key, id } = query.after;
        and.push({ $or: [{ startsAt: { $gt: key } }, { startsAt: key, _id: { $gt: id } }] });
      }
      const docs = await events
        .find(and.length > 0 ? { $and: and } : {})
        .sort({ startsAt: 1, _id: 1 })
        .limit(query.limit)
        .toArray();
      return docs.map((doc) => strip(doc) as EventState);
    },

    async ticketsOfSeller(sellerId) {
      const docs = await tickets.find({ sellerId }).sort({ listedAt: -1, _id: -1 }).toArray();
      return docs.map((doc) => strip(doc) as TicketState);
    },

    async ticketsOfEvent(eventId, after, limit) {
      const and: mongo.Filter<TicketDoc>[] = [{ eventId }, { status: { $ne: "WITHDRAWN" } }];
      if (after) {
        and.push({
          $or: [{ listedAt: { $lt: after.key } }, { listedAt: after.key, _id: { $lt: after.id } }],
        });
      }
      const docs = await tickets.find({ $and: and }).sort({ listedAt: -1, _id: -1 }).limit(limit).toArray();
      return docs.map((doc) => strip(doc) as TicketState);
    },

    async summaries(eventIds) {
      const result = new Map<string, EventSummary>(
        eventIds.map((id) => [id, { availableTickets: 0, lowestPrice: null }]),
      );
      if (eventIds.length === 0) return result;
      const available = await tickets
        .find(
          { eventId: { $in: [...eventIds] }, status: "AVAILABLE" },
          { projection: { eventId: 1, price: 1 } },
        )
        .toArray();
      for (const { eventId, price } of available) {
        const summary = result.get(eventId);
        if (!summary) continue;
        summary.availableTickets += 1;
        if (summary.lowestPrice === null || cheaper(price, summary.lowestPrice)) summary.lowestPrice = price;
      }
      return result;
    },

    async recordOutcome(outcome) {
      try {
        await outcomes.insertOne({ ...outcome, at: new Date() });
      } catch (error) {
        // An order ends one way only; a redelivery finds its record already there.
        if (!isDuplicateKey(error)) throw error;
      }
    },

    outcome: (orderId) => outcomes.findOne({ _id: orderId }),
  };
}

/** Amounts of different currencies are not comparable; the lower amount wins, then the currency code. */
function cheaper(a: Money, b: Money): boolean {
  return a.amount < b.amount || (a.amount === b.amount && a.currency < b.currency);
}
