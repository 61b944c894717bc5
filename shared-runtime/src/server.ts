import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type RequestHandler,
  type Response,
} from "express";
import { GraphQLError, type GraphQLSchema } from "graphql";
import type { Logger } from "pino";
import { TokenError, type TokenVerifier, type Viewer } from "./auth.js";
import { ErrorCode } from "./errors.js";
import { requestScope, requestScoping } from "./logger.js";
import { formatError, logUnexpectedErrors, retryAfterHeader } from "./masking.js";
import { createReadiness, type ReadinessOptions } from "./readiness.js";
import { requestMetricsPlugin, serveMetrics } from "./telemetry/metrics.js";
import { operationTracingPlugin, traceOperations } from "./telemetry/tracing.js";

/** What every resolver finds in its context, whatever the service adds. */
export interface SubgraphContext {
  viewer: Viewer;
  requestId: string;
  logger: Logger;
}

export interface ContextArguments extends SubgraphContext {
  req: Request;
  /** For response headers a resolver sets (auth hands the session token to the gateway so). */
  res: Response;
}

export interface SubgraphServerOptions<TExtra extends object> {
  name: string;
  schema: GraphQLSchema;
  logger: Logger;
  verifier: TokenVerifier;
  /** The service's additions to the context (repositories, publishers…). */
  context?: (args: ContextArguments) => TExtra | Promise<TExtra>;
  readiness?: ReadinessOptions;
  /** Outside production only. */
  introspection?: boolean;
  bodyLimit?: string;
  /** The service's own HTTP routes besides `/graphql` (a JWKS, a webhook). */
  routes?: (app: Express) => void;
}

export interface SubgraphServer<TExtra extends object> {
  app: Express;
  apollo: ApolloServer<SubgraphContext & TExtra>;
  httpServer: Server;
  /** Starts Apollo and mounts `/graphql`; `listen` calls it when needed. */
  start(): Promise<void>;
  listen(port: number, host?: string): Promise<{ port: number; url: string }>;
  /**
   * The start of a shutdown: `/readyz` answers 503 at once so endpoints stop routing here, while
   * requests are still served, each answer with `Connection: close` so that clients holding a
   * kept-alive connection open their next one elsewhere.
   */
  drain(): void;
  /** Refuses new requests, lets running ones finish (at most `graceMs`), then stops Apollo. */
  close(graceMs?: number): Promise<void>;
}

/**
 * Stops accepting connections and closes the idle ones; the requests in flight have `graceMs` to
 * finish, then whatever is still open is closed. Resolves once the server has closed.
 */
export async function closeHttpServer(server: Server, graceMs: number): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const cutOff = setTimeout(() => server.closeAllConnections(), Math.max(0, graceMs));
  try {
    await closed;
  } finally {
    clearTimeout(cutOff);
  }
}

/**
 * Express middleware: an answer that starts while `draining()` closes its connection after it.
 * Decided when the answer's head is written, not when the request arrived: a request that came in
 * before the drain and is answered during it must not leave its connection open, idle, for the
 * close to cut just as the client sends its next request on it.
 */
export function closeConnectionsWhile(draining: () => boolean): RequestHandler {
  return (_req, res, next) => {
    const writeHead = res.writeHead.bind(res);
    res.writeHead = ((...args: Parameters<Response["writeHead"]>) => {
      if (draining() && !res.headersSent) res.setHeader("connection", "close");
      return writeHead(...args);
    }) as Response["writeHead"];
    next();
  };
}

function graphqlError(message: string, code: string) {
  return { errors: [{ message, extensions: { code } }] };
}

function httpStatus(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

/** An Apollo subgraph on express 5 with `/graphql`, `/healthz` and `/readyz`. */
export function createSubgraphServer<TExtra extends object = object>(
  options: SubgraphServerOptions<TExtra>,
): SubgraphServer<TExtra> {
  const { name, schema, logger, verifier, introspection = false, bodyLimit = "1mb" } = options;
  const app = express();
  const httpServer = createServer(app);
  const apollo = new ApolloServer<SubgraphContext & TExtra>({
    schema,
    logger: logger.child({ component: "apollo" }),
    introspection,
    hideSchemaDetailsFromClientErrors: !introspection,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    formatError,
    // Signals belong to gracefulShutdown, which stops the server in its place among the other steps.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // Traces would carry unmasked error messages to the gateway.
      ApolloServerPluginInlineTraceDisabled(),
      logUnexpectedErrors(),
      retryAfterHeader(),
      requestMetricsPlugin(),
      operationTracingPlugin(),
    ],
  });
  const readiness = createReadiness(options.readiness ?? {}, logger);
  let closing = false;

  async function contextFor(req: Request, res: Response): Promise<SubgraphContext & TExtra> {
    const { requestId, logger: requestLogger } = requestScope(req);
    const viewer = await authenticate(req.get("authorization"), requestLogger);
    const base: SubgraphContext = { viewer, requestId, logger: requestLogger };
    try {
      const extra = options.context ? await options.context({ req, res, ...base }) : ({} as TExtra);
      return { ...extra, ...base };
    } catch (err) {
      if (err instanceof GraphQLError) throw err;
      requestLogger.error({ err }, "context creation failed");
      throw new GraphQLError("Internal server error", {
        extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
      });
    }
  }

  async function authenticate(header: string | undefined, requestLogger: Logger): Promise<Viewer> {
    try {
      return await verifier.verifyAuthorization(header);
    } catch (err) {
      if (err instanceof TokenError) {
        requestLogger.info({ reason: err.reason }, "token refused");
        throw new GraphQLError(err.message, {
          extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } },
        });
      }
      requestLogger.error({ err }, "cannot verify tokens");
      throw new GraphQLError("Authentication is unavailable", {
        extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, http: { status: 503 } },
      });
    }
  }

  app.disable("x-powered-by");
  app.use(closeConnectionsWhile(() => closing));
  app.use(requestScoping(logger));
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", async (_req, res) => {
    const report = await readiness();
    const ready = report.ready && !closing;
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? "ready" : "unready", closing, checks: report.checks });
  });

  app.get("/metrics", (req, res) => serveMetrics(req, res));

  options.routes?.(app);

  // Mounted now so that it runs before the fallbacks below; filled in by start().
  const graphql = express.Router();
  app.use("/graphql", graphql);

  app.use((_req, res) => {
    res.status(404).json({ error: "not found" });
  });
  const onError: ErrorRequestHandler = (err, req, res, next) => {
    if (res.headersSent) return next(err);
    const status = httpStatus(err);
    // body-parser's errors (bad JSON, too large, bad charset) are the client's: 4xx, GraphQL-shaped.
    if (status !== undefined && status >= 400 && status < 500) {
      const { message } = err as Error;
      res.status(status).json(graphqlError(message, "BAD_REQUEST"));
      return;
    }
    requestScope(req).logger.error({ err }, "unhandled error");
    res.status(500).json(graphqlError("Internal server error", ErrorCode.INTERNAL_SERVER_ERROR));
  };
  app.use(onError);

  let started: Promise<void> | undefined;
  function start(): Promise<void> {
    started ??= (async () => {
      await apollo.start();
      graphql.use(
        express.json({ limit: bodyLimit }),
        traceOperations(),
        expressMiddleware(apollo, { context: ({ req, res }) => contextFor(req, res) }),
      );
    })();
    return started;
  }

  async function listen(port: number, host = "0.0.0.0") {
    await start();
    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      httpServer.listen(port, host, () => {
        httpServer.off("error", reject);
        resolve();
      });
    });
    const address = httpServer.address() as AddressInfo;
    const shown = host === "0.0.0.0" || host === "::" ? "localhost" : host;
    const url = `http://${shown}:${address.port}/graphql`;
    logger.info({ url }, `${name} is listening`);
    return { port: address.port, url };
  }

  async function close(graceMs = 10_000) {
    closing = true;
    await closeHttpServer(httpServer, graceMs);
    if (started) {
      await started;
      await apollo.stop();
    }
  }

  const drain = () => {
    closing = true;
  };

  return { app, apollo, httpServer, start, listen, drain, close };
}
