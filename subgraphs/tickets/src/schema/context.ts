import type { SubgraphContext } from "@ticketing/shared-runtime";
import type { Catalog } from "../catalog.js";
import type { EventSummary } from "../data/reads.js";
import type { Listings } from "../listings.js";

export interface TicketsContext extends SubgraphContext {
  catalog: Catalog;
  listings: Listings;
  /** Availability per event: how many tickets are available, and the lowest price. */
  summary: (eventId: string) => Promise<EventSummary>;
}
