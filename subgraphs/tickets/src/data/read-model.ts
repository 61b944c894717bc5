// The catalog's read model: the memory of catalog-memory.ts loaded from the projections, kept
// current by the tickets service's own subjects on the stream and by its own commands at once.
import type { NatsConnection } from "@nats-io/transport-node";
import { readModel, type ProjectionDocument } from "@ticketing/shared-events";
import type { Logger } from "pino";
import type { EventState } from "../domain/catalog.js";
import type { TicketState } from "../domain/tickets.js";
import { catalogMemory, type CatalogMemory } from "./catalog-memory.js";
import type { Logs } from "./logs.js";
import type { TicketsModels } from "./models.js";
import { catalogReads, type CatalogReads } from "./reads.js";

/** Documents per batch while loading: fewer round trips than the driver's default of 101. */
const LOAD_BATCH = 1_000;

export interface CatalogReadModel {
  /** Browse queries from memory; the order outcomes (not a browse path) from the database. */
  reads: CatalogReads;
  memory: CatalogMemory;
  /** The readiness check: loaded, caught up, and not behind the stream. */
  ready(): Promise<boolean>;
  /** Stops following the stream: the model then reports not ready. */
  stop(): Promise<void>;
}

export interface CatalogReadModelOptions {
  models: TicketsModels;
  logs: Logs;
  nats: NatsConnection;
  logger: Logger;
}

/**
 * Loads the catalog into memory and follows the stream; resolves once it has caught up. Commands
 * through `logs` from then on apply their committed state to it before they return.
 */
export async function startCatalogReadModel({
  models,
  logs,
  nats,
  logger,
}: CatalogReadModelOptions): Promise<CatalogReadModel> {
  const memory = catalogMemory({
    events: {
      // The causation ids are the log's, for commands; they would only take memory here.
      load: () =>
        models.events
          .find({}, { _causes: 0 })
          .lean<ProjectionDocument<EventState>[]>()
          .cursor({ batchSize: LOAD_BATCH }),
      reload: (id) => logs.events.load(id),
    },
    tickets: {
      load: () =>
        models.tickets
          .find({}, { _causes: 0 })
          .lean<ProjectionDocument<TicketState>[]>()
          .cursor({ batchSize: LOAD_BATCH }),
      reload: (id) => logs.tickets.load(id),
    },
  });
  // Read-your-writes: a command's state reaches memory before its client gets the response.
  logs.events.observe((id, state) => memory.events.put(id, state));
  logs.tickets.observe((id, state) => memory.tickets.put(id, state));

  const model = readModel({ nc: nats, logger, views: [memory.events, memory.tickets] });
  await model.start();
  const database = catalogReads(models);
  return {
    reads: {
      ...memory.reads,
      isCatalogEmpty: () => database.isCatalogEmpty(),
      recordOutcome: (outcome) => database.recordOutcome(outcome),
      outcome: (orderId) => database.outcome(orderId),
    },
    memory,
    ready: () => model.ready(),
    stop: () => model.stop(),
  };
}
