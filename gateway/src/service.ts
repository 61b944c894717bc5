import {
  createMetricsServer,
  defineService,
  type ServiceContext,
  type ServiceOptions,
} from "@ticketing/shared-runtime";
import { createApiKeys } from "./api-keys.js";
import { loadEnv, type Env } from "./env.js";
import { createGateway } from "./server.js";

/** The gateway: the supergraph, the live subscriptions, API keys followed on the stream. */
export const gatewayService = defineService({
  name: "gateway",
  loadEnv,
  settings: (env: Env) => ({
    logLevel: env.logLevel,
    natsUrl: env.natsUrl,
    jwksUrl: env.jwksUrl,
    port: env.http.port,
    host: env.http.host,
    shutdown: env.shutdown,
    tracing: env.tracing,
  }),
  async build(context: ServiceContext<Env, ServiceOptions>) {
    const { env, logger, nats, identity, readiness, defer } = context;
    const apiKeys = await createApiKeys({ authUrl: env.authUrl, nc: nats, logger });
    defer("stop following API keys", () => apiKeys.stop());
    const gateway = await createGateway({
      env,
      logger,
      verifier: identity.verifier,
      apiKeys,
      readiness,
      nats,
    });
    // Prometheus scrapes an internal port of its own: the public one is the ingress's.
    const metricsServer = createMetricsServer();
    const server = {
      async listen(port: number, host?: string) {
        const address = await gateway.listen(port, host);
        const metrics = await metricsServer.listen(env.metrics.port, host);
        logger.info(`Ticketing is at ${env.publicOrigin}/ (graph at ${env.publicOrigin}/graphql)`);
        logger.info({ port: metrics.port }, "metrics at /metrics on the internal port");
        return { ...address, metricsPort: metrics.port };
      },
      drain: () => gateway.drain(),
      async close(graceMs?: number) {
        await gateway.close(graceMs);
        await metricsServer.close();
      },
    };
    return { server, gateway, metricsServer };
  },
});
