import "reflect-metadata";
import {
  commonSettings,
  defineService,
  type ServiceContext,
  type ServiceOptions,
} from "@ticketing/shared-runtime";
import { createCatalog } from "./catalog.js";
import { createLogs } from "./data/logs.js";
import { openModels } from "./data/models.js";
import { startCatalogReadModel } from "./data/read-model.js";
import { seedDemoCatalog } from "./demo.js";
import { loadEnv, type TicketsEnv } from "./env.js";
import { ORDERS_CONSUMER, startOrderConsumer } from "./events/orders.js";
import { createListings } from "./listings.js";
import { passReplicas } from "./data/passes.js";
import { PASSES_CONSUMER, startPassConsumer } from "./events/passes.js";
import { createServer } from "./server.js";

export { loadEnv, type TicketsEnv } from "./env.js";
export { ORDERS_CONSUMER } from "./events/orders.js";
export { PASSES_CONSUMER } from "./events/passes.js";
export { DEMO_SELLERS } from "@ticketing/shared-runtime";

export const DATABASE = "ticketing-tickets";

export interface TicketsServiceOptions extends ServiceOptions {
  /** The durable consumer of order events; tests give each service its own. */
  ordersConsumer?: string;
  /** The durable consumer of pass events; tests give each service its own. */
  passesConsumer?: string;
}

/**
 * The tickets service: the event logs of the catalog and its listings, the catalog read model
 * that answers the queries from memory, the order consumer, and the demo catalog seeded into an
 * empty database.
 */
export const ticketsService = defineService({
  name: "tickets",
  database: DATABASE,
  loadEnv,
  settings: commonSettings,
  async build(context: ServiceContext<TicketsEnv, TicketsServiceOptions>) {
    const { env, options, logger, mongo, nats, publisher, identity, readiness, defer, consumers } = context;
    const models = await openModels(mongo);
    const logs = createLogs(models, publisher, logger);
    await logs.events.start();
    await logs.tickets.start();
    defer("flush the event logs", async () => {
      await logs.events.stop();
      await logs.tickets.stop();
    });
    // After the logs' first sweep, so that it loads projections a crash had left behind.
    const readModel = await startCatalogReadModel({ models, logs, nats, logger });
    defer("stop the read model", () => readModel.stop());
    const { reads } = readModel;

    const catalog = createCatalog({ events: logs.events, reads });
    const passes = passReplicas(models);
    const listings = createListings({ tickets: logs.tickets, events: logs.events, reads, passes });
    if (env.DEMO_CATALOG !== "off") await seedDemoCatalog({ catalog, listings, reads, logger });

    const consumer = await startOrderConsumer(
      nats,
      { tickets: logs.tickets, reads, publisher, logger },
      options.ordersConsumer ?? ORDERS_CONSUMER.durable,
    );
    const passConsumer = await startPassConsumer(
      nats,
      { passes, tickets: logs.tickets, logger },
      options.passesConsumer ?? PASSES_CONSUMER.durable,
    );
    consumers([consumer, passConsumer]);
    const server = await createServer({
      catalog,
      listings,
      verifier: identity.verifier,
      logger,
      readiness: { ...readiness, checks: { ...readiness.checks, readModel: () => readModel.ready() } },
      introspection: env.NODE_ENV !== "production",
    });
    return { server, app: server.app, readModel };
  },
});

export type TicketsService = Awaited<ReturnType<typeof ticketsService.start>>;
