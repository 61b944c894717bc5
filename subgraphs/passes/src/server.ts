import "reflect-metadata";
import {
  createSubgraphServer,
  type ReadinessOptions,
  type SubgraphServer,
  type TokenVerifier,
} from "@ticketing/shared-runtime";
import type { Logger } from "pino";
import type { Passes } from "./passes.js";
import { buildPassesSchema } from "./schema/index.js";

export interface ServerDependencies {
  passes: Passes;
  verifier: TokenVerifier;
  logger: Logger;
  /** What `/readyz` checks. */
  readiness: ReadinessOptions;
  introspection: boolean;
}

export type PassesServer = SubgraphServer<{ passes: Passes }>;

/** The passes subgraph over HTTP: `/graphql` and the probes. */
export async function createServer(deps: ServerDependencies): Promise<PassesServer> {
  const { passes, verifier, logger, readiness, introspection } = deps;
  const { schema } = await buildPassesSchema();
  return createSubgraphServer({
    name: "passes",
    schema,
    logger,
    verifier,
    introspection,
    context: () => ({ passes }),
    readiness,
  });
}
