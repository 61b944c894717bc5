import "reflect-metadata";
import { buildSubgraphSchemaFromTypeGraphQL, type SubgraphSchema } from "@ticketing/shared-runtime";
import type { PassesContext } from "./context.js";
import { Order, OrderPassesResolver, orderReference, passReference, PassResolver } from "./pass.js";

/** The passes subgraph's executable schema and its SDL (what `schema.graphql` holds). */
export function buildPassesSchema(): Promise<SubgraphSchema> {
  return buildSubgraphSchemaFromTypeGraphQL<PassesContext>({
    resolvers: [PassResolver, OrderPassesResolver],
    referenceResolvers: { Pass: passReference, Order: orderReference },
    // Orders serves orders; passes adds their passes to them.
    orphanedTypes: [Order],
  });
}
