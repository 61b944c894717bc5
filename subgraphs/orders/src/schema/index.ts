import "reflect-metadata";
import { buildSubgraphSchemaFromTypeGraphQL, type SubgraphSchema } from "@ticketing/shared-runtime";
import type { OrdersContext } from "./context.js";
import { orderReference, OrderResolver } from "./order.js";

/** The orders subgraph's executable schema and its SDL (what `schema.graphql` holds). */
export function buildOrdersSchema(): Promise<SubgraphSchema> {
  return buildSubgraphSchemaFromTypeGraphQL<OrdersContext>({
    resolvers: [OrderResolver],
    referenceResolvers: { Order: orderReference },
  });
}
