import "reflect-metadata";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AggregateLog, createPublisher, ensureStreams, type RunningConsumer } from "@ticketing/shared-events";
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
import { orderStore } from "./data/store.js";
import type { OrdersEnv } from "./env.js";
import { startOrderConsumers, type ConsumerNames } from "./events/consumers.js";
import { evolveOrder, ORDER_LOG, type OrderState } from "./events/orders.js";
import { createOrders, type Orders } from "./orders.js";
import { createServer, type OrdersServer } from "./server.js";

export { loadEnv, type OrdersEnv } from "./env.js";
export { CONSUMERS } from "./events/consumers.js";

export const DATABASE = "ticketing-orders";

export interface OrdersServiceOptions {
  logger?: Logger;
  /** The MongoDB database; tests give each suite its own. */
  database?: string;
  /** Durable consumer names; tests give each service its own. */
  consumers?: ConsumerNames;
}

export interface OrdersService {
  app: Express;
  orders: Orders;
  /** Defaults to PORT and HOST. `url` is the GraphQL endpoint. */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  shutdownSteps: ShutdownStep[];
  close(): Promise<void>;
}

/**
 * The whole orders service: MongoDB, NATS and the stream, the order log, the ticket replica and
 * the reservation locks, the consumers, the sweeper, and the HTTP server.
 */
export async function createOrdersService(
  env: OrdersEnv,
  options: OrdersServiceOptions = {},
): Promise<OrdersService> {
  const logger = options.logger ?? createLogger("orders", env.LOG_LEVEL);
  let mongo: Awaited<ReturnType<typeof connectMongo>> | undefined;
  let nats: NatsConnection | undefined;
  let log: AggregateLog<OrderState> | undefined;
  let orders: Orders | undefined;
  let consumers: RunningConsumer[] = [];
  let identity: ProcessIdentity | undefined;
  let server: OrdersServer | undefined;

  const steps: ShutdownStep[] = [
    { name: "stop taking requests", run: () => server?.close() },
    {
      name: "drain the consumers",
      run: async () => void (await Promise.all(consumers.map((c) => c.stop()))),
    },
    { name: "stop the sweeper", run: () => orders?.stop() },
    { name: "stop the revocation watch", run: () => identity?.stop() },
    { name: "flush the order log", run: () => log?.stop() },
    { name: "close NATS", run: () => nats?.drain() },
    { name: "close MongoDB", run: () => mongo?.close() },
  ];

  try {
    mongo = await connectMongo(env.MONGO_URL, options.database ?? DATABASE, logger);
    nats = await connect({ servers: env.NATS_URL.split(","), name: "orders" });
    await ensureStreams(nats);
    const publisher = createPublisher(nats);
    const store = orderStore(mongo);
    await store.ensureIndexes();
    log = new AggregateLog<OrderState>({
      connection: mongo,
      ...ORDER_LOG,
      evolve: evolveOrder,
      publisher,
      logger: logger.child({ log: ORDER_LOG.logCollection }),
    });
    await log.start();
    orders = createOrders({ log, store, holdSeconds: env.ORDER_HOLD_SECONDS, logger });
    consumers = await startOrderConsumers(nats, { orders, store, logger }, options.consumers);
    orders.start(env.ORDER_SWEEP_SECONDS * 1_000);

    identity = await createIdentity(nats, env.AUTH_JWKS_URL, logger);
    const { verifier } = identity;
    server = await createServer({
      orders,
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
  const running = orders;
  let closing: Promise<void> | undefined;
  return {
    app: started.app,
    orders: running,
    listen: (port = env.PORT, host = env.HOST) => started.listen(port, host),
    shutdownSteps: steps,
    close() {
      closing ??= runShutdownSteps({ logger, steps }).then((clean) => {
        if (!clean) throw new Error("the orders service did not shut down cleanly");
      });
      return closing;
    },
  };
}
