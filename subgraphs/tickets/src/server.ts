import "reflect-metadata";
import {
  createSubgraphServer,
  type ReadinessOptions,
  type SubgraphServer,
  type TokenVerifier,
} from "@ticketing/shared-runtime";
import type { Logger } from "pino";
import type { Catalog } from "./catalog.js";
import type { EventSummary } from "./data/reads.js";
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

// Promise.withResolvers is Node 22+.
interface Deferred {
  resolve: (summary: EventSummary) => void;
  reject: (error: unknown) => void;
}

/**
 * One request's availability lookups, gathered until the resolvers of the current step have all
 * asked (setImmediate), then answered by one query: a page of 100 events costs one scan, not 100.
 */
export function summaryLoader(catalog: Catalog): (eventId: string) => Promise<EventSummary> {
  const cache = new Map<string, Promise<EventSummary>>();
  let batch: Map<string, Deferred> | undefined;
  return (eventId) => {
    const cached = cache.get(eventId);
    if (cached) return cached;
    if (!batch) {
      const current = new Map<string, Deferred>();
      batch = current;
      setImmediate(() => {
        batch = undefined;
        catalog.summaries([...current.keys()]).then(
          (summaries) => {
            for (const [id, waiting] of current) {
              waiting.resolve(summaries.get(id) ?? { availableTickets: 0, lowestPrice: null });
            }
          },
          (error: unknown) => {
            for (const waiting of current.values()) waiting.reject(error);
          },
        );
      });
    }
    let deferred!: Deferred;
    const promise = new Promise<EventSummary>((resolve, reject) => {
      deferred = { resolve, reject };
    });
    batch.set(eventId, deferred);
    cache.set(eventId, promise);
    return promise;
  };
}

/** The tickets subgraph over HTTP: `/graphql` and the probes. */
export async function createServer(deps: ServerDependencies): Promise<TicketsServer> {
  const { catalog, listings, verifier, logger, readiness, introspection } = deps;
  const { schema } = await buildTicketsSchema();
  return createSubgraphServer({
    name: "tickets",
    schema,
    logger,
    verifier,
    introspection,
    context: () => ({ catalog, listings, summary: summaryLoader(catalog) }),
    readiness,
  });
}
