import "reflect-metadata";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createPublisher, ensureStreams, type RunningConsumer } from "@ticketing/shared-events";
import {
  connectMongo,
  createLogger,
  createIdentity,
  runShutdownSteps,
  type Logger,
  type ProcessIdentity,
  type ShutdownStep,
} from "@ticketing/shared-runtime";
import type { Express } from "express";
import { createCatalog } from "./catalog.js";
import { createLogs, type Logs } from "./data/logs.js";
import { catalogReads } from "./data/reads.js";
import { seedDemoCatalog } from "./demo.js";
import type { TicketsEnv } from "./env.js";
import { ORDERS_CONSUMER, startOrderConsumer } from "./events/orders.js";
import { createListings } from "./listings.js";
import { createServer, type TicketsServer } from "./server.js";

export { loadEnv, type TicketsEnv } from "./env.js";
export { ORDERS_CONSUMER } from "./events/orders.js";
export { DEMO_SELLERS } from "@ticketing/shared-runtime";

export const DATABASE = "ticketing-tickets";

export interface TicketsServiceOptions {
  logger?: Logger;
  /** The MongoDB database; tests give each suite its own. */
  database?: string;
  /** The durable consumer of order events; tests give each service its own. */
  ordersConsumer?: string;
}

export interface TicketsService {
  app: Express;
  /** Defaults to PORT and HOST. `url` is the GraphQL endpoint. */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /** In order: stop HTTP, the consumer, the revocation watch, the logs (publishing what is pending), NATS, MongoDB. */
  shutdownSteps: ShutdownStep[];
  /** Runs `shutdownSteps`; rejects when one failed. */
  close(): Promise<void>;
}

/**
 * The whole tickets service: connects MongoDB and NATS, makes sure the stream exists, starts the
 * event logs, the order consumer and the revocation watch, seeds the demo catalog into an empty
 * one, and builds the HTTP server. What main.ts runs and what other packages' tests start.
 */
export async function createTicketsService(
  env: TicketsEnv,
  options: TicketsServiceOptions = {},
): Promise<TicketsService> {
  const logger = options.logger ?? createLogger("tickets", env.LOG_LEVEL);
  let mongo: Awaited<ReturnType<typeof connectMongo>> | undefined;
  let nats: NatsConnection | undefined;
  let logs: Logs | undefined;
  let consumer: RunningConsumer | undefined;
  let identity: ProcessIdentity | undefined;
  let server: TicketsServer | undefined;

  const steps: ShutdownStep[] = [
    { name: "stop taking requests", run: () => server?.close() },
    { name: "drain the order consumer", run: () => consumer?.stop() },
    { name: "stop the revocation watch", run: () => identity?.stop() },
    {
      name: "flush the event logs",
      run: async () => {
        await logs?.events.stop();
        await logs?.tickets.stop();
      },
    },
    { name: "close NATS", run: () => nats?.drain() },
    { name: "close MongoDB", run: () => mongo?.close() },
  ];

  try {
    mongo = await connectMongo(env.MONGO_URL, options.database ?? DATABASE, logger);
    nats = await connect({ servers: env.NATS_URL.split(","), name: "tickets" });
    await ensureStreams(nats);
    const publisher = createPublisher(nats);
    const reads = catalogReads(mongo);
    await reads.ensureIndexes();
    logs = createLogs(mongo, publisher, logger);
    await logs.events.start();
    await logs.tickets.start();

    const catalog = createCatalog({ events: logs.events, reads });
    const listings = createListings({ tickets: logs.tickets, events: logs.events, reads });
    if (env.DEMO_CATALOG !== "off") await seedDemoCatalog({ catalog, listings, reads, logger });

    consumer = await startOrderConsumer(
      nats,
      { tickets: logs.tickets, reads, publisher, logger },
      options.ordersConsumer ?? ORDERS_CONSUMER.durable,
    );
    identity = await createIdentity(nats, env.AUTH_JWKS_URL, logger);
    const { verifier } = identity;
    server = await createServer({
      catalog,
      listings,
      verifier,
      logger,
      readiness: { mongo, nats },
      introspection: env.NODE_ENV !== "production",
    });
  } catch (error) {
    await runShutdownSteps({ logger, steps, timeoutMs: 5_000 });
    throw error;
  }

  const started = server;
  let closing: Promise<void> | undefined;
  return {
    app: started.app,
    listen: (port = env.PORT, host = env.HOST) => started.listen(port, host),
    shutdownSteps: steps,
    close() {
      closing ??= runShutdownSteps({ logger, steps }).then((clean) => {
        if (!clean) throw new Error("the tickets service did not shut down cleanly");
      });
      return closing;
    },
  };
}
