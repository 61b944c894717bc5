// The catalog's queries and the order outcomes, through mongoose: filters are cast against the
// schemas, results come back lean (plain objects, never saved back). The service answers the
// browse queries from memory (catalog-memory.ts, the same results); these stay the definition of
// what each query returns, which the tests hold the memory up against.
import { isDuplicateKey, type Money } from "@ticketing/shared-events";
import type { EventState } from "../domain/catalog.js";
import { accentPattern, pageByPrice } from "../domain/search.js";
import type { TicketState } from "../domain/tickets.js";
import type { EventFilter, OrderOutcome, TicketFilter, TicketsModels } from "./models.js";

export type { OrderOutcome } from "./models.js";

export interface EventQuery {
  /** Matched ignoring case and accents, in name, venue or city. */
  search?: string;
  /** The city folded (`fold`): matched ignoring case and accents. */
  cityKey?: string;
  categoryKey?: string;
  startsAfter?: string;
  startsBefore?: string;
  /** Only events with an AVAILABLE ticket. */
  withTickets?: boolean;
  /** Ordered by the lowest price in this currency (`priceOrderKey`) instead of by start. */
  priceCurrency?: string;
  /** The sort key and id of the last event of the previous page. */
  after?: { key: string; id: string } | null;
  limit: number;
}

export interface EventSummary {
  availableTickets: number;
  /** The currency most of its available tickets are priced in (ties: the first by code); null when none. */
  currency: string | null;
  /** The lowest price in each currency of its available tickets, the event's currency first. */
  lowestPrices: Money[];
  /** The lowest price in the event's currency: amounts of different currencies are never compared. */
  lowestPrice: Money | null;
}

/** What one currency of an event's available tickets counts: how many, and the lowest amount. */
export interface CurrencyAvailability {
  currency: string;
  count: number;
  lowest: number;
}

/** An event's summary from its available tickets per currency. */
export function summarise(availableTickets: number, perCurrency: CurrencyAvailability[]): EventSummary {
  const ordered = [...perCurrency].sort(
    (a, b) => b.count - a.count || (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0),
  );
  const lowestPrices = ordered.map(({ currency, lowest }) => ({ amount: lowest, currency }));
  return {
    availableTickets,
    currency: ordered[0]?.currency ?? null,
    lowestPrices,
    lowestPrice: lowestPrices[0] ?? null,
  };
}

export const NO_TICKETS: EventSummary = Object.freeze({
  availableTickets: 0,
  currency: null,
  lowestPrices: [],
  lowestPrice: null,
});

export interface CatalogReads {
  isCatalogEmpty(): Promise<boolean>;
  event(id: string): Promise<EventState | null>;
  ticket(id: string): Promise<TicketState | null>;
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

const strip = <T extends { _id: string; _causes?: unknown }>({ _id: _ignored, _causes: _c, ...rest }: T) =>
  rest;

/** The catalog's queries; each index they use is declared with its schema in models.ts. */
export function catalogReads(models: TicketsModels): CatalogReads {
  const { events, tickets, orderOutcomes } = models;

  return {
    async isCatalogEmpty() {
      return (await events.findOne({}, { _id: 1 }).lean()) === null;
    },

    async event(id) {
      const doc = await events.findById(id).lean();
      return doc ? strip(doc) : null;
    },

    async ticket(id) {
      const doc = await tickets.findById(id).lean();
      return doc ? strip(doc) : null;
    },

    async findEvents(query) {
      const byPrice = query.priceCurrency !== undefined;
      const and: EventFilter[] = [];
      if (query.search) {
        const pattern = { $regex: accentPattern(query.search), $options: "i" };
        and.push({ $or: [{ name: pattern }, { venue: pattern }, { city: pattern }] });
      }
      if (query.cityKey !== undefined)
        and.push({ city: { $regex: `^${accentPattern(query.cityKey)}$`, $options: "i" } });
      if (query.categoryKey !== undefined) and.push({ categoryKey: query.categoryKey });
      if (query.startsAfter !== undefined) and.push({ startsAt: { $gt: query.startsAfter } });
      if (query.startsBefore !== undefined) and.push({ startsAt: { $lt: query.startsBefore } });
      if (query.withTickets) {
        const withTickets = await tickets.distinct("eventId", { status: "AVAILABLE" });
        and.push({ _id: { $in: withTickets } });
      }
      if (query.after && !byPrice) {
        const { key, id } = query.after;
        and.push({ $or: [{ startsAt: { $gt: key } }, { startsAt: key, _id: { $gt: id } }] });
      }
      const found = events.find(and.length > 0 ? { $and: and } : {}).sort({ startsAt: 1, _id: 1 });
      if (!byPrice) {
        const docs = await found.limit(query.limit).lean();
        return docs.map((doc) => strip(doc) as EventState);
      }
      const matches = (await found.lean()).map((doc) => strip(doc) as EventState);
      const summaries = await this.summaries(matches.map((event) => event.id));
      const lowestOf = (event: EventState) =>
        summaries.get(event.id)?.lowestPrices.find((price) => price.currency === query.priceCurrency)?.amount;
      return pageByPrice(matches, lowestOf, query.after, query.limit);
    },

    async ticketsOfSeller(sellerId) {
      const docs = await tickets.find({ sellerId }).sort({ listedAt: -1, _id: -1 }).lean();
      return docs.map((doc) => strip(doc) as TicketState);
    },

    async ticketsOfEvent(eventId, after, limit) {
      const and: TicketFilter[] = [{ eventId }, { status: { $ne: "WITHDRAWN" } }];
      if (after) {
        and.push({
          $or: [{ listedAt: { $lt: after.key } }, { listedAt: after.key, _id: { $lt: after.id } }],
        });
      }
      const docs = await tickets.find({ $and: and }).sort({ listedAt: -1, _id: -1 }).limit(limit).lean();
      return docs.map((doc) => strip(doc) as TicketState);
    },

    async summaries(eventIds) {
      const found = new Map<string, Map<string, CurrencyAvailability>>();
      if (eventIds.length > 0) {
        const available = await tickets
          .find({ eventId: { $in: [...eventIds] }, status: "AVAILABLE" }, { eventId: 1, price: 1 })
          .lean();
        for (const { eventId, price } of available) {
          let currencies = found.get(eventId);
          if (!currencies) found.set(eventId, (currencies = new Map<string, CurrencyAvailability>()));
          const entry = currencies.get(price.currency);
          if (!entry)
            currencies.set(price.currency, { currency: price.currency, count: 1, lowest: price.amount });
          else {
            entry.count += 1;
            entry.lowest = Math.min(entry.lowest, price.amount);
          }
        }
      }
      return new Map(
        eventIds.map((id) => {
          const currencies = [...(found.get(id)?.values() ?? [])];
          const count = currencies.reduce((sum, entry) => sum + entry.count, 0);
          return [id, summarise(count, currencies)];
        }),
      );
    },

    async recordOutcome(outcome) {
      try {
        await orderOutcomes.create({ ...outcome, at: new Date() });
      } catch (error) {
        // An order ends one way only; a redelivery finds its record already there.
        if (!isDuplicateKey(error)) throw error;
      }
    },

    outcome: (orderId) => orderOutcomes.findById(orderId).lean().exec(),
  };
}
