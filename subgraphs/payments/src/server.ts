import "reflect-metadata";
import {
  createSubgraphServer,
  type ReadinessOptions,
  type SubgraphServer,
  type TokenVerifier,
} from "@ticketing/shared-runtime";
import type { Logger } from "pino";
import type { Payments } from "./payments.js";
import { buildPaymentsSchema } from "./schema/index.js";
import type { StripeGateway } from "./stripe.js";
import { webhookRoute } from "./webhook.js";

export interface ServerDependencies {
  payments: Payments;
  stripe: StripeGateway;
  verifier: TokenVerifier;
  logger: Logger;
  /** What `/readyz` checks. */
  readiness: ReadinessOptions;
  introspection: boolean;
}

export type PaymentsServer = SubgraphServer<{ payments: Payments }>;

/** The payments subgraph over HTTP: `/graphql`, `POST /webhooks/stripe` and the probes. */
export async function createServer(deps: ServerDependencies): Promise<PaymentsServer> {
  const { payments, stripe, verifier, logger, readiness, introspection } = deps;
  const { schema } = await buildPaymentsSchema();
  return createSubgraphServer({
    name: "payments",
    schema,
    logger,
    verifier,
    introspection,
    context: () => ({ payments }),
    readiness,
    routes: webhookRoute({ payments, stripe }),
  });
}
