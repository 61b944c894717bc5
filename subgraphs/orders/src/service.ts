import "reflect-metadata";
import { AggregateLog } from "@ticketing/shared-events";
import {
  commonSettings,
  defineService,
  driverCollection,
  type ServiceContext,
  type ServiceOptions,
} from "@ticketing/shared-runtime";
import { openModels } from "./data/models.js";
import { orderStore } from "./data/store.js";
import { loadEnv, type OrdersEnv } from "./env.js";
import { followTicketsOnSale } from "./data/tickets-on-sale.js";
import { CONSUMERS, startOrderConsumers, type ConsumerNames } from "./events/consumers.js";
import { evolveOrder, ORDER_LOG } from "./domain/orders.js";
import { createOrders } from "./orders.js";
import { createServer } from "./server.js";

export { loadEnv, type OrdersEnv } from "./env.js";
export { CONSUMERS } from "./events/consumers.js";

export const DATABASE = "ticketing-orders";

export interface OrdersServiceOptions extends ServiceOptions {
  /** Durable consumer names; tests give each service its own. */
  consumers?: ConsumerNames;
}

/** The orders service: the order log, the ticket replica and the reservation locks, the consumers, the sweeper. */
export const ordersService = defineService({
  name: "orders",
  database: DATABASE,
  loadEnv,
  settings: commonSettings,
  async build(context: ServiceContext<OrdersEnv, OrdersServiceOptions>) {
    const { env, options, logger, mongo, nats, publisher, identity, readiness, defer, consumers } = context;
    const models = await openModels(mongo);
    const store = orderStore(models);
    const log = new AggregateLog({
      log: driverCollection(models.orderEvents),
      projections: driverCollection(models.orders),
      evolve: evolveOrder,
      publisher,
      logger: logger.child({ log: ORDER_LOG.logCollection }),
    });
    await log.start();
    defer("flush the order log", () => log.stop());
    defer("write the queued lock releases", () => store.flush());
    const tickets = await followTicketsOnSale({
      nc: nats,
      consumer: {
        durable: options.consumers?.tickets ?? CONSUMERS.tickets.durable,
        filterSubject: CONSUMERS.tickets.filterSubject,
      },
      load: () => store.tickets(),
      logger,
    });
    defer("stop following tickets", () => tickets.stop());
    const orders = createOrders({ log, store, tickets, holdSeconds: env.ORDER_HOLD_SECONDS, logger });
    consumers(await startOrderConsumers(nats, { orders, store, logger }, options.consumers));
    orders.start(env.ORDER_SWEEP_SECONDS * 1_000);
    defer("stop the sweeper", () => orders.stop());

    const server = await createServer({
      orders,
      verifier: identity.verifier,
      logger,
      readiness,
      introspection: env.NODE_ENV !== "production",
    });
    return { server, app: server.app, orders };
  },
});

export type OrdersService = Awaited<ReturnType<typeof ordersService.start>>;
