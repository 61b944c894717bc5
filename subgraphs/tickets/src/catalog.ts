import { randomUUID } from "node:crypto";
import { badUserInput, decodeCursor, notFound, pageSize, toPage, type Page } from "@ticketing/shared-runtime";
import type { CatalogReads, EventSummary } from "./data/reads.js";
import type { EventLog } from "./data/logs.js";
import type { EventState } from "./domain/catalog.js";
import { fold, priceOrderKey } from "./domain/search.js";
import {
  CURRENCIES,
  instant,
  money,
  SEARCH_MAX,
  text,
  validateEvent,
  type EventFields,
} from "./validation.js";

export interface EventFilterInput {
  search?: string | null;
  city?: string | null;
  category?: string | null;
  startsAfter?: Date | null;
  startsBefore?: Date | null;
  withTickets?: boolean | null;
}

export type EventOrderBy = "STARTS_AT" | "LOWEST_PRICE";

export interface EventOrderInput {
  by: EventOrderBy;
  currency?: string | null;
}

export interface Catalog {
  createEvent(
    input: Omit<EventFields, "startsAt" | "category"> & { startsAt: Date; category?: string | null },
    requestId?: string,
  ): Promise<EventState>;
  /** Creates the event under `id` unless it exists; for the demo catalog, whose ids are fixed. */
  ensureEvent(id: string, fields: EventFields): Promise<EventState>;
  event(id: string): Promise<EventState | null>;
  events(args: {
    first?: number | null;
    after?: string | null;
    filter?: EventFilterInput | null;
    orderBy?: EventOrderInput | null;
  }): Promise<Page<EventState>>;
  summaries(eventIds: readonly string[]): Promise<Map<string, EventSummary>>;
  /** OPS: the event's resale price cap (null clears it) and whether free-text listings are allowed. */
  setResalePolicy(
    eventId: string,
    input: {
      resalePriceCap?: { amount: number; currency: string } | null;
      unverifiedListingsAllowed?: boolean | null;
    },
    requestId?: string,
  ): Promise<EventState>;
}

export function createCatalog({ events, reads }: { events: EventLog; reads: CatalogReads }): Catalog {
  async function ensureEvent(id: string, fields: EventFields, requestId?: string) {
    const result = await events.execute(
      id,
      (current) => (current ? null : { subject: "ticketing.event.created", data: { id, ...fields } }),
      { requestId },
    );
    if (!result.state) throw new Error(`event ${id} is missing after its creation`);
    return result.state;
  }

  return {
    createEvent: (input, requestId) => ensureEvent(randomUUID(), validateEvent(input), requestId),
    ensureEvent: (id, fields) => ensureEvent(id, fields),
    event: (id) => reads.event(id),

    async events({ first, after, filter, orderBy }) {
      const size = pageSize(first);
      const search = filter?.search?.trim();
      if (search !== undefined && [...search].length > SEARCH_MAX) {
        throw badUserInput(`search must be at most ${SEARCH_MAX} characters long`, "filter.search");
      }
      const city = filter?.city?.trim();
      const category = filter?.category?.trim();
      const priceCurrency = orderBy?.by === "LOWEST_PRICE" ? orderCurrency(orderBy.currency) : undefined;
      const rows = await reads.findEvents({
        search: search || undefined,
        cityKey: city ? fold(text(city, "filter.city", 1, 200)) : undefined,
        categoryKey: category ? text(category, "filter.category", 1, 200).toLowerCase() : undefined,
        startsAfter: filter?.startsAfter ? instant(filter.startsAfter, "filter.startsAfter") : undefined,
        startsBefore: filter?.startsBefore ? instant(filter.startsBefore, "filter.startsBefore") : undefined,
        withTickets: filter?.withTickets ?? undefined,
        priceCurrency,
        after: decodeCursor(after),
        limit: size + 1,
      });
      if (priceCurrency === undefined) return toPage(rows, size, (event) => [event.startsAt, event.id]);
      const summaries = await reads.summaries(rows.map((event) => event.id));
      return toPage(rows, size, (event) => [
        priceOrderKey(
          summaries.get(event.id)?.lowestPrices.find((price) => price.currency === priceCurrency)?.amount,
          event.startsAt,
        ),
        event.id,
      ]);
    },

    summaries: (eventIds) => reads.summaries(eventIds),

    async setResalePolicy(eventId, input, requestId) {
      const cap =
        input.resalePriceCap === undefined
          ? undefined
          : input.resalePriceCap === null
            ? null
            : money(input.resalePriceCap, "resalePriceCap");
      const result = await events.execute(
        eventId,
        (event) => {
          if (!event) throw notFound("No event has this id");
          const resalePriceCap = cap === undefined ? (event.resalePriceCap ?? null) : cap;
          const unverifiedListingsAllowed =
            input.unverifiedListingsAllowed ?? event.unverifiedListingsAllowed ?? true;
          const same =
            JSON.stringify(resalePriceCap) === JSON.stringify(event.resalePriceCap ?? null) &&
            unverifiedListingsAllowed === (event.unverifiedListingsAllowed ?? true);
          return same
            ? null
            : {
                subject: "ticketing.event.resale_policy_set",
                data: { id: eventId, resalePriceCap, unverifiedListingsAllowed },
              };
        },
        { requestId },
      );
      if (!result.state) throw notFound("No event has this id");
      return result.state;
    },
  };
}

/** The currency the lowest-price order compares amounts in: one of those a ticket can be priced in. */
function orderCurrency(currency: string | null | undefined): string {
  if (!currency || !(CURRENCIES as readonly string[]).includes(currency)) {
    throw badUserInput(
      `Ordering by lowest price needs a currency, one of ${CURRENCIES.join(", ")}`,
      "orderBy.currency",
    );
  }
  return currency;
}
