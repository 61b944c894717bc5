// What makes /graphql safe to open to partner sites, in one place: CORS, who the client is
// (API key or address), its rate limit, the operation limits, persisted and trusted documents,
// and who may introspect. server.ts mounts `cors` and `admission` before the graph and spreads
// `apolloOptions` into Apollo Server.
import type { ApolloServerOptions, ApolloServerPlugin, BaseContext } from "@apollo/server";
import { ErrorCode, requestScope, retryAfterHeader } from "@ticketing/shared-runtime";
import type { IncomingMessage } from "node:http";
import type { Request, RequestHandler } from "express";
import type { GraphQLFormattedError } from "graphql";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import { API_KEY_HEADER, identifyClient, type ApiKeys, type Client } from "./api-keys.js";
import { cors } from "./cors.js";
import type { Env } from "./env.js";
import { limitRules, limitsPlugin, withLimitDetails } from "./limits.js";
import { loadPersistedDocuments, persistedQueryCache, trustedDocumentsPlugin } from "./persisted.js";
import { createRateLimiter, rateLimitHeaders } from "./rate-limit.js";

export interface PublicGraphOptions {
  env: Pick<Env, "production" | "publicOrigin" | "publicGraph" | "redisUrl">;
  logger: Logger;
  apiKeys: ApiKeys;
  /** The client's address behind the trusted proxies (client-address.ts). */
  addressOf: (request: IncomingMessage) => string;
  /** A Redis connection to use; otherwise one is opened to `redisUrl` (and closed by `close`). */
  redis?: Redis;
  /** False: none of it (a gateway as before), to measure what the checks cost. */
  checks?: boolean;
}

export interface PublicGraph {
  cors: RequestHandler;
  /** Identifies the client and takes one request from its rate limit; refuses with 401 or 429. */
  admission: RequestHandler;
  apolloOptions: Pick<
    ApolloServerOptions<BaseContext>,
    "validationRules" | "parseOptions" | "persistedQueries" | "introspection"
  > & { plugins: ApolloServerPlugin<{ client: Client }>[] };
  /** Runs after the gateway's own formatting: the limits' details survive the masking. */
  formatError(masked: GraphQLFormattedError, original: GraphQLFormattedError): GraphQLFormattedError;
  /** The client `admission` identified. */
  clientOf(req: Request): Client;
  close(): Promise<void>;
}

/** How long a partner waits before retrying when its key could not be verified. */
const KEY_RETRY_AFTER_SECONDS = 5;

function refusal(message: string, extensions: Record<string, unknown>) {
  return { errors: [{ message, extensions }] };
}

export async function createPublicGraph(options: PublicGraphOptions): Promise<PublicGraph> {
  return options.checks === false ? unchecked(options.env.production, options.addressOf) : checked(options);
}

function unchecked(production: boolean, addressOf: PublicGraphOptions["addressOf"]): PublicGraph {
  const pass: RequestHandler = (_req, _res, next) => next();
  return {
    cors: pass,
    admission: pass,
    apolloOptions: { introspection: !production, plugins: [] },
    formatError: (masked) => masked,
    clientOf: (req) => ({ kind: "anonymous", address: addressOf(req) }),
    close: () => Promise.resolve(),
  };
}

async function checked({
  env,
  logger,
  apiKeys,
  addressOf,
  redis: given,
}: PublicGraphOptions): Promise<PublicGraph> {
  const settings = env.publicGraph;
  const redis =
    given ??
    new Redis(env.redisUrl, {
      // A request never waits for a reconnection: without Redis, limits are let through.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 5_000,
    });
  if (!given) {
    redis.on("error", (err: unknown) => logger.debug({ err }, "Redis connection error"));
    await readyOrLater(redis, logger);
  }
  const limiter = createRateLimiter(redis, settings.rateLimits, logger);
  const documents = loadPersistedDocuments(settings.persistedDocumentsPath, logger);
  const clients = new WeakMap<Request, Client>();

  const admission: RequestHandler = async (req, res, next) => {
    try {
      const scope = requestScope(req);
      const address = addressOf(req);
      const client = await identifyClient(apiKeys, req.get(API_KEY_HEADER), address, scope.logger);
      const charged = typeof client === "string" ? ({ kind: "anonymous", address } as const) : client;
      const decision = await limiter.take(charged);
      if (decision) res.set(rateLimitHeaders(decision));
      if (decision && !decision.allowed) {
        const retryAfter = decision.retryAfterSeconds;
        res.status(429).json(
          refusal(`Too many requests; try again in ${retryAfter} s`, {
            code: ErrorCode.RATE_LIMITED,
            retryAfter,
          }),
        );
        return;
      }
      if (client === "unknown") {
        res
          .status(401)
          .json(
            refusal(`Unknown or revoked API key (${API_KEY_HEADER})`, { code: ErrorCode.UNAUTHENTICATED }),
          );
        return;
      }
      if (client === "unverifiable") {
        // Refused, not served as anonymous: the key may be revoked. The partner may retry soon.
        res
          .status(401)
          .set("retry-after", String(KEY_RETRY_AFTER_SECONDS))
          .json(
            refusal(`The API key (${API_KEY_HEADER}) cannot be verified now; retry shortly`, {
              code: ErrorCode.UNAUTHENTICATED,
              retryAfter: KEY_RETRY_AFTER_SECONDS,
            }),
          );
        return;
      }
      clients.set(req, client);
      if (client.kind === "partner") {
        scope.logger = scope.logger.child({ apiKey: client.keyId, partner: client.name });
      }
      next();
    } catch (error) {
      next(error);
    }
  };

  return {
    cors: cors({ allowedOrigins: settings.corsOrigins, spaOrigin: env.publicOrigin }),
    admission,
    apolloOptions: {
      // Who may introspect is the limits plugin's decision (keyed partners only, in production).
      introspection: true,
      validationRules: limitRules(settings.limits),
      parseOptions: { maxTokens: settings.limits.tokens },
      persistedQueries: { cache: persistedQueryCache(redis, documents) },
      plugins: [
        limitsPlugin(settings.limits, env.production),
        ...(settings.trustedDocuments ? [trustedDocumentsPlugin(documents, env.publicOrigin)] : []),
        // A subgraph's RATE_LIMITED (sign-in's limit, a reservation's admission) keeps its Retry-After.
        retryAfterHeader(),
      ],
    },
    formatError: (masked, original) => withLimitDetails(masked, original, settings.limits.tokens),
    clientOf(req) {
      return clients.get(req) ?? { kind: "anonymous", address: addressOf(req) };
    },
    async close() {
      if (!given) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Waits briefly for Redis: the graph does not need it to serve, so it does not hold up a start. */
async function readyOrLater(redis: Redis, logger: Logger): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      logger.warn("Redis is not ready yet; rate limits are off until it is");
      resolve();
    }, 3_000);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once("ready", onReady);
  });
}
