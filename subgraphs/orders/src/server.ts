import "reflect-metadata";
import {
  createSubgraphServer,
  type ReadinessOptions,
  type SubgraphServer,
  type TokenVerifier,
} from "@ticketing/shared-runtime";
import type { Logger } from "pino";
import type { Orders } from "./orders.js";
import { buildOrdersSchema } from "./schema/index.js";

export interface ServerDependencies {
  orders: Orders;
  verifier: TokenVerifier;
  logger: Logger;
  /** What `/readyz` checks. */
  readiness: ReadinessOptions;
  introspection: boolean;
}

export type OrdersServer = SubgraphServer<{ orders: Orders }>;

/** The orders subgraph over HTTP: `/graphql` and the probes. */
export async function createServer(deps: ServerDependencies): Promise<OrdersServer> {
  const { orders, verifier, logger, readiness, introspection } = deps;
  const { schema } = await buildOrdersSchema();
  return createSubgraphServer({
    name: "orders",
    schema,
    logger,
    verifier,
    introspection,
    context: () => ({ orders }),
    readiness,
  });
}
