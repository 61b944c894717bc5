import "reflect-metadata";
import {
  createSubgraphServer,
  type ReadinessOptions,
  type SubgraphServer,
  type TokenVerifier,
} from "@ticketing/shared-runtime";
import type { Logger } from "pino";
import type { Catalog } from "./catalog.js";
import { NO_TICKETS, type EventSummary } from "./data/reads.js";
import type { Listings } from "./listings.js";
import { buildTicketsSchema } from "./schema/index.js";

export interface ServerDependencies {
  catalog: Catalog;
  listings: Listings;
  verifier: TokenVerifier;
  logger: Logger;
  /** What `/readyz` checks. */
  readiness: ReadinessOptions;
  introspection: boolean;
}

export type TicketsServer = SubgraphServer<{
  catalog: Catalog;
  listings: Listings;
  summary: (eventId: string) => Promise<EventSummary>;
}>;

/**
 * An event's availability, as its fields ask for it. The read model keeps it per event, so each
 * lookup is answered at once; no batching across a page is needed.
 */
export function summaryOf(catalog: Catalog): (eventId: string) => Promise<EventSummary> {
  return async (eventId) => (await catalog.summaries([eventId])).get(eventId) ?? NO_TICKETS;
}

/** The tickets subgraph over HTTP: `/graphql` and the probes. */
export async function createServer(deps: ServerDependencies): Promise<TicketsServer> {
  const { catalog, listings, verifier, logger, readiness, introspection } = deps;
  const { schema } = await buildTicketsSchema();
  const summary = summaryOf(catalog);
  return createSubgraphServer({
    name: "tickets",
    schema,
    logger,
    verifier,
    introspection,
    context: () => ({ catalog, listings, summary }),
    readiness,
  });
}
