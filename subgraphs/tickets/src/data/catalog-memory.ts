// The catalog held in memory: the events and tickets projections as views, and the indexes the
// browse queries need, kept by each change as it is applied (docs/adr/0003-reads-from-memory.md).
// Every query here answers what the database query of the same name in reads.ts answers.
import { AggregateView, Interner, type AggregateViewOptions, type Money } from "@ticketing/shared-events";
import { evolveEvent, type EventState, type EventSubject } from "../domain/catalog.js";
import { evolveTicket, type TicketState, type TicketSubject } from "../domain/tickets.js";
import { summarise, type CatalogReads, type EventQuery, type EventSummary, NO_TICKETS } from "./reads.js";
import { fold, pageByPrice } from "../domain/search.js";
import { SortedList } from "./sorted-list.js";

/** Where the views load from and reload an aggregate from: the projections and logs. */
export type ViewSource<TState extends { version: number }, S extends EventSubject | TicketSubject> = Pick<
  AggregateViewOptions<TState, S>,
  "load" | "reload"
>;

export interface CatalogSources {
  events: ViewSource<EventState, EventSubject>;
  tickets: ViewSource<TicketState, TicketSubject>;
}

/** The browse queries of `CatalogReads`, answered from memory. */
export type MemoryReads = Pick<
  CatalogReads,
  "event" | "ticket" | "findEvents" | "ticketsOfSeller" | "ticketsOfEvent" | "summaries"
>;

export interface CatalogMemory {
  events: AggregateView<EventState, EventSubject>;
  tickets: AggregateView<TicketState, TicketSubject>;
  reads: MemoryReads;
}

const byStart = () =>
  new SortedList<EventState>(
    (event) => event.startsAt,
    (event) => event.id,
  );
const byListing = () =>
  new SortedList<TicketState>(
    (ticket) => ticket.listedAt,
    (ticket) => ticket.id,
  );

/** Adds or removes one item of a keyed family of lists; an emptied list goes. */
function setIn<T>(lists: Map<string, SortedList<T>>, key: string, item: T, create: () => SortedList<T>) {
  let list = lists.get(key);
  if (!list) {
    list = create();
    lists.set(key, list);
  }
  list.set(item);
}

function deleteIn<T>(lists: Map<string, SortedList<T>>, key: string, item: T) {
  const list = lists.get(key);
  if (!list) return;
  list.delete(item);
  if (list.length === 0) lists.delete(key);
}

/**
 * The available tickets of one currency of an event: how many at each amount, so that the lowest
 * survives the cheapest ticket's sale without a pass over the event's tickets (only over its
 * distinct amounts, and only then).
 */
class CurrencyPrices {
  count = 0;
  private readonly amounts = new Map<number, number>();
  private lowestAmount: number | null = null;
  /** The lowest amount's last ticket went; found again on the next read. */
  private stale = false;

  add(amount: number) {
    this.count++;
    this.amounts.set(amount, (this.amounts.get(amount) ?? 0) + 1);
    if (!this.stale && (this.lowestAmount === null || amount < this.lowestAmount)) this.lowestAmount = amount;
  }

  remove(amount: number) {
    this.count--;
    const held = this.amounts.get(amount);
    if (held === undefined) return;
    if (held > 1) {
      this.amounts.set(amount, held - 1);
      return;
    }
    this.amounts.delete(amount);
    if (amount === this.lowestAmount) this.stale = true;
  }

  lowest(): number {
    if (this.stale || this.lowestAmount === null) {
      this.lowestAmount = Math.min(...this.amounts.keys());
      this.stale = false;
    }
    return this.lowestAmount;
  }
}

/** An event's available tickets, per currency: amounts of different currencies are never compared. */
class Availability {
  count = 0;
  private readonly currencies = new Map<string, CurrencyPrices>();

  add(price: Money) {
    this.count++;
    let prices = this.currencies.get(price.currency);
    if (!prices) this.currencies.set(price.currency, (prices = new CurrencyPrices()));
    prices.add(price.amount);
  }

  remove(price: Money) {
    this.count--;
    const prices = this.currencies.get(price.currency);
    if (!prices) return;
    prices.remove(price.amount);
    if (prices.count <= 0) this.currencies.delete(price.currency);
  }

  /** The lowest amount in `currency`, if any ticket in it is available. */
  lowestIn(currency: string): number | undefined {
    return this.currencies.get(currency)?.lowest();
  }

  summary(): EventSummary {
    const perCurrency = [...this.currencies].map(([currency, prices]) => ({
      currency,
      count: prices.count,
      lowest: prices.lowest(),
    }));
    return summarise(this.count, perCurrency);
  }
}

/** The views and their indexes; `reads` serves from them. Load them with a read model (shared-events). */
export function catalogMemory(sources: CatalogSources): CatalogMemory {
  // Events in (startsAt, id) order: all of them, and per folded city and per category key.
  const allEvents = byStart();
  // Each event's name, venue and city folded (case and accents), for the search.
  const folded = new Map<string, { name: string; venue: string; city: string }>();
  const eventsByCity = new Map<string, SortedList<EventState>>();
  const eventsByCategory = new Map<string, SortedList<EventState>>();
  // Tickets newest first: per event except withdrawn ones, per seller all of them.
  const ticketsByEvent = new Map<string, SortedList<TicketState>>();
  const ticketsBySeller = new Map<string, SortedList<TicketState>>();
  const availability = new Map<string, Availability>();

  const events = new AggregateView<EventState, EventSubject>({
    name: "events",
    subjects: ["ticketing.event.created", "ticketing.event.resale_policy_set"],
    evolve: evolveEvent,
    ...sources.events,
    changed(next, previous) {
      if (previous) {
        allEvents.delete(previous);
        deleteIn(eventsByCity, fold(previous.city), previous);
        if (previous.categoryKey !== null) deleteIn(eventsByCategory, previous.categoryKey, previous);
      }
      allEvents.set(next);
      const text = { name: fold(next.name), venue: fold(next.venue), city: fold(next.city) };
      folded.set(next.id, text);
      setIn(eventsByCity, text.city, next, byStart);
      if (next.categoryKey !== null) setIn(eventsByCategory, next.categoryKey, next, byStart);
    },
  });

  const listed = (ticket: TicketState) => ticket.status !== "WITHDRAWN";
  // Ids of events and sellers, statuses, currencies: a few thousand strings that 100,000 tickets
  // repeat; shared, they take a quarter less memory (scripts/read-model-memory.ts).
  const strings = new Interner();
  const tickets = new AggregateView<TicketState, TicketSubject>({
    name: "tickets",
    subjects: ["ticketing.ticket.created", "ticketing.ticket.updated"],
    evolve: evolveTicket,
    ...sources.tickets,
    compact: (ticket) => ({
      ...ticket,
      eventId: strings.intern(ticket.eventId),
      sellerId: strings.intern(ticket.sellerId),
      status: strings.intern(ticket.status) as TicketState["status"],
      price: { amount: ticket.price.amount, currency: strings.intern(ticket.price.currency) },
    }),
    changed(next, previous) {
      if (previous) {
        if (listed(previous)) deleteIn(ticketsByEvent, previous.eventId, previous);
        deleteIn(ticketsBySeller, previous.sellerId, previous);
        if (previous.status === "AVAILABLE") availability.get(previous.eventId)?.remove(previous.price);
      }
      if (listed(next)) setIn(ticketsByEvent, next.eventId, next, byListing);
      setIn(ticketsBySeller, next.sellerId, next, byListing);
      if (next.status === "AVAILABLE") {
        let summary = availability.get(next.eventId);
        if (!summary) {
          summary = new Availability();
          availability.set(next.eventId, summary);
        }
        summary.add(next.price);
      }
    },
  });

  function findEvents(query: EventQuery): EventState[] {
    const { cityKey, categoryKey, startsAfter, startsBefore, after, limit, withTickets, priceCurrency } =
      query;
    // In the lowest-price order every match is needed first; in start order a page is enough.
    const byPrice = priceCurrency !== undefined;
    // The narrowest list that holds every match; the other conditions are checked per event.
    let list = allEvents;
    if (cityKey !== undefined) list = eventsByCity.get(cityKey) ?? byStart();
    if (categoryKey !== undefined) {
      const byCategory = eventsByCategory.get(categoryKey) ?? byStart();
      if (byCategory.length < list.length) list = byCategory;
    }
    let start = 0;
    if (startsAfter !== undefined) start = list.afterKey(startsAfter);
    if (after && !byPrice) start = Math.max(start, list.upperBound(after.key, after.id));
    const needle = query.search ? fold(query.search) : null;
    const found: EventState[] = [];
    for (let index = start; index < list.length && (byPrice || found.length < limit); index++) {
      const event = list.at(index) as EventState;
      if (startsBefore !== undefined && event.startsAt >= startsBefore) break;
      const text = folded.get(event.id);
      if (cityKey !== undefined && text?.city !== cityKey) continue;
      if (categoryKey !== undefined && event.categoryKey !== categoryKey) continue;
      if (
        needle &&
        !(text?.name.includes(needle) || text?.venue.includes(needle) || text?.city.includes(needle))
      ) {
        continue;
      }
      if (withTickets && !availability.get(event.id)?.count) continue;
      found.push(event);
    }
    if (!byPrice) return found;
    return pageByPrice(found, (event) => availability.get(event.id)?.lowestIn(priceCurrency), after, limit);
  }

  /** Newest first from the end of the list, after the (listedAt, id) cursor. */
  function newestFirst(
    list: SortedList<TicketState> | undefined,
    after: { key: string; id: string } | null,
    limit: number,
  ) {
    if (!list) return [];
    const found: TicketState[] = [];
    const end = after ? list.lowerBound(after.key, after.id) : list.length;
    for (let index = end - 1; index >= 0 && found.length < limit; index--)
      found.push(list.at(index) as TicketState);
    return found;
  }

  return {
    events,
    tickets,
    reads: {
      event: (id) => Promise.resolve(events.get(id) ?? null),
      ticket: (id) => Promise.resolve(tickets.get(id) ?? null),
      findEvents: (query) => Promise.resolve(findEvents(query)),
      ticketsOfSeller: (sellerId) =>
        Promise.resolve(newestFirst(ticketsBySeller.get(sellerId), null, Number.POSITIVE_INFINITY)),
      ticketsOfEvent: (eventId, after, limit) =>
        Promise.resolve(newestFirst(ticketsByEvent.get(eventId), after, limit)),
      summaries(eventIds) {
        const result = new Map<string, EventSummary>();
        for (const id of eventIds) {
          result.set(id, availability.get(id)?.summary() ?? NO_TICKETS);
        }
        return Promise.resolve(result);
      },
    },
  };
}
