import "reflect-metadata";
import { buildSubgraphSchemaFromTypeGraphQL, type SubgraphSchema } from "@ticketing/shared-runtime";
import type { PaymentsContext } from "./context.js";
import { orderReference, OrderPaymentResolver, PaymentReceiptResolver, PaymentResolver } from "./payment.js";

/** The payments subgraph's executable schema and its SDL (what `schema.graphql` holds). */
export function buildPaymentsSchema(): Promise<SubgraphSchema> {
  return buildSubgraphSchemaFromTypeGraphQL<PaymentsContext>({
    resolvers: [PaymentResolver, OrderPaymentResolver, PaymentReceiptResolver],
    referenceResolvers: { Order: orderReference },
  });
}
