import {
  createMetricsServer,
  defineService,
  type ServiceContext,
  type ServiceOptions,
} from "@ticketing/shared-runtime";
import { createApiKeys } from "./api-keys.js";
import { loadEnv, type Env } from "./env.js";
import { startLiveProcess, type LiveProcess } from "./live/process.js";
import { createGateway } from "./server.js";

const settings = (env: Env) => ({
  logLevel: env.logLevel,
  natsUrl: env.natsUrl,
  jwksUrl: env.jwksUrl,
  port: env.http.port,
  host: env.http.host,
  shutdown: env.shutdown,
  tracing: env.tracing,
});

/** The gateway over the service's connections, API keys followed on the stream. */
async function buildGateway(context: ServiceContext<Env, ServiceOptions>, liveProcess?: LiveProcess) {
  const { env, logger, nats, identity, readiness, defer } = context;
  const apiKeys = await createApiKeys({ authUrl: env.authUrl, nc: nats, logger });
  defer("stop following API keys", () => apiKeys.stop());
  return createGateway({
    env,
    logger,
    verifier: identity.verifier,
    apiKeys,
    readiness,
    nats,
    ...(liveProcess ? { liveProcess } : {}),
  });
}

/**
 * The gateway: the supergraph and, in its live process (ADR 10) unless LIVE_PROCESS=inline, the
 * WebSocket subscriptions.
 */
export const gatewayService = defineService({
  name: "gateway",
  loadEnv,
  settings,
  async build(context: ServiceContext<Env, ServiceOptions>) {
    const { env, logger } = context;
    const liveProcess =
      env.liveProcess === "own"
        ? startLiveProcess({ env, logger: logger.child({ component: "live-process" }) })
        : undefined;
    const gateway = await buildGateway(context, liveProcess);
    // Prometheus scrapes an internal port of its own: the public one is the ingress's. It reads
    // the live process's metrics too, through the gateway.
    const metricsServer = createMetricsServer(liveProcess && (() => liveProcess.metrics()));
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
    return { server, gateway, metricsServer, liveProcess };
  },
});

/**
 * The gateway's live process (ADR 10, live-main.ts): the WebSocket subscriptions of the gateway
 * that started it, which hands it their sockets. It listens on no port of its own.
 */
export const liveService = defineService({
  name: "gateway-live",
  loadEnv,
  settings,
  async build(context: ServiceContext<Env, ServiceOptions>) {
    const gateway = await buildGateway(context);
    const server = {
      listen: () => Promise.resolve({ port: 0 }),
      drain: () => gateway.drain(),
      close: (graceMs?: number) => gateway.close(graceMs),
    };
    return { server, gateway };
  },
});
