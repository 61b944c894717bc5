import { randomUUID } from "node:crypto";
import { badUserInput, decodeCursor, pageSize, toPage, type Page } from "@ticketing/shared-runtime";
import type { CatalogReads, EventSummary } from "./data/reads.js";
import type { EventLog } from "./data/logs.js";
import type { EventState } from "./domain/catalog.js";
import { instant, SEARCH_MAX, text, validateEvent, type EventFields } from "./validation.js";

export interface EventFilterInput {
  search?: string | null;
  city?: string | null;
  category?: string | null;
  startsAfter?: Date | null;
  startsBefore?: Date | null;
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
  }): Promise<Page<EventState>>;
  summaries(eventIds: readonly string[]): Promise<Map<string, EventSummary>>;
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

    async events({ first, after, filter }) {
      const size = pageSize(first);
      const search = filter?.search?.trim();
      if (search !== undefined && [...search].length > SEARCH_MAX) {
        throw badUserInput(`search must be at most ${SEARCH_MAX} characters long`, "filter.search");
      }
      const city = filter?.city?.trim();
      const category = filter?.category?.trim();
      const rows = await reads.findEvents({
        search: search || undefined,
        cityKey: city ? text(city, "filter.city", 1, 200).toLowerCase() : undefined,
        categoryKey: category ? text(category, "filter.category", 1, 200).toLowerCase() : undefined,
        startsAfter: filter?.startsAfter ? instant(filter.startsAfter, "filter.startsAfter") : undefined,
        startsBefore: filter?.startsBefore ? instant(filter.startsBefore, "filter.startsBefore") : undefined,
        after: decodeCursor(after),
        limit: size + 1,
      });
      return toPage(rows, size, (event) => [event.startsAt, event.id]);
    },

    summaries: (eventIds) => reads.summaries(eventIds),
  };
}
