import { existsSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  ApolloGateway,
  RemoteGraphQLDataSource,
  type GraphQLDataSourceProcessOptions,
} from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import type { NatsConnection } from "@nats-io/transport-node";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import {
  closeConnectionsWhile,
  closeHttpServer,
  createReadiness,
  formatError,
  requestScope,
  requestScoping,
  operationTracingPlugin,
  requestMetricsPlugin,
  requestTraceContext,
  traceOperations,
  tracedFetch,
  type ReadinessOptions,
  type TokenVerifier,
  type Viewer,
} from "@ticketing/shared-runtime";
import { currentTraceCarrier, setTraceHeaders, type TraceCarrier } from "@ticketing/shared-events";
import express, { type Express, type Response } from "express";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import {
  clearedSessionCookie,
  createSessions,
  SESSION_EXPIRES_HEADER,
  SESSION_TOKEN_HEADER,
  sessionCookie,
} from "./session.js";
import { disableApolloTelemetry, type Env } from "./env.js";
import { attachLive, type Live } from "./live/server.js";
import { supergraphFromFile } from "./supergraph.js";
import { join } from "node:path";
import type { Redis } from "ioredis";
import { createApiKeys, type ApiKeys, type Client } from "./api-keys.js";
import { createPublicGraph } from "./public-graph.js";
import { createResponseCache, type ResponseCache } from "./response-cache/index.js";
import { clientMistakesPlugin, codedClientError } from "./client-mistakes.js";
import { clientAddresses } from "./client-address.js";
import { measuredFetch } from "./metrics.js";
import { mutationAdmissionPlugin } from "./mutation-admission.js";
import { spaRouter } from "./spa.js";
import { subgraphFetch } from "./subgraph-fetch.js";

/** How long an idle kept-alive connection stays open: longer than a load balancer's idle timeout. */
const KEEP_ALIVE_MS = 65_000;
/** Connections the kernel queues for accepting (capped by its `somaxconn`). */
const LISTEN_BACKLOG = 4_096;
/**
 * Mutations under way at once, and the longest the next may wait for its turn (mutation-admission):
 * about what the gateway answers in a fifth of a second during an on-sale on two cores, so that an
 * admitted createOrder keeps within its 250 ms.
 */
const MUTATIONS = { concurrency: 32, budgetMs: 100 };

/**
 * Errors a subgraph raised on purpose arrive already masked by it, with their code: they pass
 * as they are. Anything else (a subgraph unreachable, the gateway's own failures) is masked.
 */
function formatGatewayError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const clientError = codedClientError(error);
  if (clientError) return clientError;
  const { code, field, retryAfter, serviceName } = formatted.extensions ?? {};
  if (serviceName !== undefined && typeof code === "string" && code !== "INTERNAL_SERVER_ERROR") {
    return {
      message: formatted.message,
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: {
        code,
        ...(typeof field === "string" ? { field } : {}),
        ...(typeof retryAfter === "number" ? { retryAfter } : {}),
      },
    };
  }
  return formatError(formatted, error);
}

export interface GatewayContext {
  viewer: Viewer;
  token: string | undefined;
  requestId: string;
  clientIp: string;
  /** A partner (API key) or an anonymous address: for limits and logs. */
  client: Client;
  /** The HTTP response, for the session cookie; none for the WebSocket's own queries. */
  res?: Response;
  secureCookies: boolean;
  /** A session cookie that was refused: the request runs anonymously if it only reads the catalog. */
  rejectedSession?: GraphQLError;
  /** The request's trace, passed on to the subgraphs (a recorded fetch span replaces it by its own). */
  trace?: TraceCarrier;
}

export interface GatewayOptions {
  env: Pick<
    Env,
    | "production"
    | "webRoot"
    | "supergraphPath"
    | "authUrl"
    | "paymentsWebhookUrl"
    | "subgraphUrls"
    | "secureCookies"
    | "publicOrigin"
    | "publicGraph"
    | "redisUrl"
    | "live"
    | "responseCache"
    | "trustedProxies"
  >;
  logger: Logger;
  verifier: TokenVerifier;
  /** What /readyz checks besides the gateway itself (the event stream's connection). */
  readiness?: ReadinessOptions;
  /**
   * The event stream: with it, the WebSocket endpoint serves subscriptions and public responses
   * are cached (invalidated by its events; without them nothing is cached).
   */
  nats?: NatsConnection;
  /** API keys as auth knows them, revocations followed; without it, checked against auth each minute. */
  apiKeys?: ApiKeys;
  /** For rate limits and persisted queries; without it, one is opened to `env.redisUrl`. */
  redis?: Redis;
  /** False turns off the public graph's limits, keys and rate limits (to measure what they cost). */
  publicGraphChecks?: boolean;
}

/** Sends the viewer's token, the request id and the client's address to every subgraph, and
 * turns the session headers of auth's responses into the session cookie. */
class SubgraphSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>) {
    const headers = request.http?.headers;
    // Apollo's own health checks of subgraphs come without a request's context.
    const { token, requestId, clientIp, trace } = context as Partial<GatewayContext>;
    if (!headers || requestId === undefined) return;
    if (token) headers.set("authorization", `Bearer ${token}`);
    headers.set("x-request-id", requestId);
    headers.set("x-client-ip", clientIp ?? "");
    if (trace) setTraceHeaders(headers, trace);
  }

  override didReceiveResponse({
    response,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<GatewayContext>["didReceiveResponse"]>>[0]) {
    const token = response.http?.headers.get(SESSION_TOKEN_HEADER);
    if (token !== null && token !== undefined && "res" in context && context.res) {
      const expires = response.http?.headers.get(SESSION_EXPIRES_HEADER);
      context.res.append(
        "set-cookie",
        token === "" || !expires
          ? clearedSessionCookie(context.secureCookies)
          : sessionCookie(token, new Date(expires), context.secureCookies),
      );
    }
    return response;
  }
}

export interface Gateway {
  app: Express;
  httpServer: Server;
  /** The subscriptions' side, when the gateway was given the event stream. */
  live: Live | undefined;
  /** The cache of public responses, when the gateway was given the event stream. */
  responseCache: ResponseCache | undefined;
  listen(port: number, host?: string): Promise<{ port: number; url: string }>;
  /**
   * The start of a shutdown: `/readyz` answers 503 at once, requests and WebSockets are still
   * served, each HTTP answer closing its connection so the client's next one goes elsewhere.
   */
  drain(): void;
  /**
   * Closes the WebSockets with 1012 (service restart: clients reconnect, to another replica), stops
   * taking requests and lets those in flight finish within `graceMs`, then stops the graph.
   */
  close(graceMs?: number): Promise<void>;
}

export async function createGateway({
  env,
  logger,
  verifier,
  readiness = {},
  apiKeys: givenApiKeys,
  redis,
  publicGraphChecks,
  nats,
}: GatewayOptions): Promise<Gateway> {
  const app = express();
  const httpServer = createHttpServer(app);
  // An idle kept-alive connection is closed by its client, not by the gateway: a load balancer
  // keeps one up to 60 s, and a client sending on a connection the server closes at that moment
  // gets a reset instead of an answer (Node's 5 s default). Clients told `timeout=65` reuse a
  // connection for at most 64 s.
  httpServer.keepAliveTimeout = KEEP_ALIVE_MS;
  httpServer.headersTimeout = KEEP_ALIVE_MS + 1_000;
  app.disable("x-powered-by");
  // Who the client is comes from `addresses` (TRUSTED_PROXIES), for HTTP and WebSocket alike;
  // express's own req.ip is left to the connection's address.
  app.set("trust proxy", false);
  const addresses = clientAddresses(env.trustedProxies);
  let closing = false;
  let closed: Promise<void> | undefined;
  app.use(closeConnectionsWhile(() => closing));
  app.use(requestScoping(logger));

  disableApolloTelemetry();
  const fetcher = subgraphFetch();
  const gateway = new ApolloGateway({
    supergraphSdl: supergraphFromFile(env.supergraphPath, logger.child({ component: "supergraph" })),
    buildService: ({ name, url }) =>
      new SubgraphSource({
        url: env.subgraphUrls[name as keyof typeof env.subgraphUrls] ?? url,
        // Apollo's default client reuses a kept-alive connection as the subgraph closes it, and
        // the request fails; subgraphFetch closes idle ones first (and costs less than fetch).
        fetcher: tracedFetch(name, measuredFetch(name, fetcher)) as unknown as NonNullable<
          ConstructorParameters<typeof RemoteGraphQLDataSource>[0]
        >["fetcher"],
      }),
    logger: logger.child({ component: "gateway" }),
  });
  const apiKeys = givenApiKeys ?? (await createApiKeys({ authUrl: env.authUrl, logger }));
  const publicGraph = await createPublicGraph({
    env,
    logger,
    apiKeys,
    addressOf: addresses.of,
    checks: publicGraphChecks ?? true,
    ...(redis ? { redis } : {}),
  });
  const responseCache =
    nats && env.responseCache.enabled
      ? await createResponseCache({
          nats,
          settings: env.responseCache,
          logger: logger.child({ component: "response-cache" }),
        })
      : undefined;
  // A new supergraph may answer any query differently.
  if (responseCache) gateway.onSchemaLoadOrUpdate(() => responseCache.clear());
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    logger: logger.child({ component: "apollo" }),
    ...publicGraph.apolloOptions,
    hideSchemaDetailsFromClientErrors: env.production,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    formatError: (formatted, error) =>
      publicGraph.formatError(formatGatewayError(formatted, error), formatted),
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // First: it refuses requests that name no runnable operation before any other check looks.
      clientMistakesPlugin(),
      ...publicGraph.apolloOptions.plugins,
      // After the checks: a request they refuse takes no place among the mutations.
      mutationAdmissionPlugin(MUTATIONS),
      // Every check above runs in didResolveOperation, which Apollo completes before it asks any
      // plugin for a response: a client they refuse never reads the cache.
      ...(responseCache ? [responseCache.plugin] : []),
      requestMetricsPlugin(),
      operationTracingPlugin<GatewayContext>((context) => context.client?.kind),
    ],
  });
  const sessions = createSessions({ verifier, authUrl: env.authUrl });
  // Registered before the gateway loads the supergraph, so it sees the first schema too.
  const live = nats
    ? await attachLive({
        httpServer,
        apollo,
        gateway,
        nats,
        sessions,
        verifier,
        addressOf: addresses.of,
        logger: logger.child({ component: "live" }),
        limits: env.publicGraph.limits,
        live: env.live,
        production: env.production,
        secureCookies: env.secureCookies,
      })
    : undefined;
  await apollo.start();

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  const dependencies = createReadiness(readiness, logger);
  app.get("/readyz", async (_req, res) => {
    const report = await dependencies();
    const ready = report.ready && !closing;
    const checks = { graph: closing ? "failed" : "ok", ...report.checks };
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "unready", checks });
  });

  app.use(
    "/graphql",
    publicGraph.cors,
    publicGraph.admission,
    express.json({ limit: "1mb" }),
    traceOperations(),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const { requestId } = requestScope(req);
        const traced = requestTraceContext(req);
        const base = {
          requestId,
          trace: traced && currentTraceCarrier(traced),
          clientIp: addresses.of(req),
          client: publicGraph.clientOf(req),
          res,
          secureCookies: env.secureCookies,
        };
        try {
          const session = await sessions.resolve(req.get("authorization"), req.get("cookie"));
          if (session.renewed) {
            res.append(
              "set-cookie",
              sessionCookie(session.renewed.token, session.renewed.expiresAt, env.secureCookies),
            );
          }
          return { ...base, viewer: session.viewer, token: session.token };
        } catch (error) {
          if (!(error instanceof GraphQLError)) throw error;
          // A token that is no good any more: the browser forgets it along with this refusal.
          res.append("set-cookie", clearedSessionCookie(env.secureCookies));
          // A cookie the client did not choose to send (an old one, or one a sibling site planted)
          // must not lock it out of the catalog: the operation decides (clientMistakesPlugin).
          if (req.get("authorization") === undefined) {
            return { ...base, viewer: null, token: undefined, rejectedSession: error };
          }
          throw new GraphQLError(error.message, {
            extensions: { ...error.extensions, http: { status: 401 } },
          });
        }
      },
    }),
  );

  app.post("/webhooks/stripe", express.raw({ type: () => true, limit: "1mb" }), async (req, res) => {
    try {
      const forwarded = await fetch(env.paymentsWebhookUrl, {
        method: "POST",
        headers: {
          "content-type": req.get("content-type") ?? "application/json",
          "stripe-signature": req.get("stripe-signature") ?? "",
          "x-request-id": requestScope(req).requestId,
        },
        // A copy on its own ArrayBuffer: a body type for Node's fetch and the DOM's alike.
        body: Buffer.isBuffer(req.body) ? new Uint8Array(req.body) : new Uint8Array(),
        signal: AbortSignal.timeout(10_000),
      });
      res.status(forwarded.status).type(forwarded.headers.get("content-type") ?? "application/json");
      res.send(Buffer.from(await forwarded.arrayBuffer()));
    } catch (error) {
      requestScope(req).logger.warn({ err: error }, "payments unreachable for a webhook");
      // Stripe retries a webhook that was not acknowledged.
      res.status(503).set("retry-after", "30").json({ error: "payments is unavailable; retry later" });
    }
  });

  // The metrics are served on the internal port only (METRICS_PORT), never as the SPA's shell here.
  app.all("/metrics", (_req, res) => void res.status(404).json({ error: "not found" }));
  if (existsSync(join(env.webRoot, "index.html"))) {
    app.use(spaRouter(env.webRoot));
  } else {
    logger.warn({ webRoot: env.webRoot }, "no built SPA found; run `npm run build`");
  }
  app.use((_req, res) => {
    res.status(404).json({ error: "not found" });
  });
  app.use((err: unknown, req: express.Request, res: Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    const status = (err as { status?: unknown }).status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      res
        .status(status)
        .json({ errors: [{ message: (err as Error).message, extensions: { code: "BAD_REQUEST" } }] });
      return;
    }
    requestScope(req).logger.error({ err }, "unhandled error");
    res.status(500).json({
      errors: [{ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } }],
    });
  });

  return {
    app,
    httpServer,
    async listen(port, host = "0.0.0.0") {
      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        // A crowd connecting at once (an on-sale's fans opening their live connections) must not
        // overflow the accept queue: Node's default of 511 made the kernel reset connections.
        httpServer.listen({ port, host, backlog: LISTEN_BACKLOG }, () => resolve());
      });
      const { port: bound } = httpServer.address() as AddressInfo;
      return { port: bound, url: `http://${host === "0.0.0.0" ? "localhost" : host}:${bound}` };
    },
    live,
    responseCache,
    drain() {
      closing = true;
    },
    close(graceMs = 10_000) {
      closing = true;
      closed ??= (async () => {
        await live?.close();
        await closeHttpServer(httpServer, graceMs);
        await apollo.stop();
        await responseCache?.close();
        await publicGraph.close();
        if (!givenApiKeys) await apiKeys.stop();
      })();
      return closed;
    },
  };
}
