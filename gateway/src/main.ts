import { connect } from "@nats-io/transport-node";
import { createIdentity, createLogger, gracefulShutdown } from "@ticketing/shared-runtime";
import { ensureStreams } from "@ticketing/shared-events";
import { loadEnv } from "./env.js";
import { createApiKeys } from "./api-keys.js";
import { createGateway } from "./server.js";

let env;
try {
  env = loadEnv();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

const logger = createLogger("gateway", env.logLevel);
const nc = await connect({ servers: env.natsUrl, name: "gateway", maxReconnectAttempts: -1 });
await ensureStreams(nc);
const identity = await createIdentity(nc, env.jwksUrl, logger);
const apiKeys = await createApiKeys({ authUrl: env.authUrl, nc, logger });
const gateway = await createGateway({
  env,
  logger,
  verifier: identity.verifier,
  apiKeys,
  natsReady: () => !nc.isClosed(),
  nats: nc,
});
await gateway.listen(env.http.port, env.http.host);
logger.info(`Ticketing is at ${env.publicOrigin}/ (graph at ${env.publicOrigin}/graphql)`);

gracefulShutdown({
  logger,
  steps: [
    { name: "stop taking requests", run: () => gateway.close() },
    { name: "stop following revocations", run: () => identity.stop() },
    { name: "stop following API keys", run: () => apiKeys.stop() },
    { name: "close NATS", run: () => nc.drain() },
  ],
});
