import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  jwksUrlSchema,
  logLevelSchema,
  natsUrlSchema,
  nodeEnvSchema,
  parseEnv,
  portSchema,
  shutdownDelaySchema,
  shutdownTimeoutSchema,
  tracingEnv,
  tracingEnvSchemas,
  type EnvSource,
} from "@ticketing/shared-runtime";
import { z } from "zod";
import { DEFAULT_TRUSTED_PROXIES, parseTrustedProxies } from "./client-address.js";
import { SUBGRAPHS, type SubgraphName } from "./subgraphs.js";

const httpUrl = z.url({ protocol: /^https?$/ });
const positiveInt = z.coerce.number().int().positive();
const onOff = z.enum(["on", "off"]);

const schema = z.object({
  NODE_ENV: nodeEnvSchema,
  PORT: portSchema(4000),
  /** The public port when one command starts every service (`npm start` with PORT); wins over PORT. */
  PUBLIC_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  HOST: z.string().min(1).default("0.0.0.0"),
  /** The internal port of `/metrics` (Prometheus); never the public one. 0: any free port. */
  METRICS_PORT: portSchema(9464),
  LOG_LEVEL: logLevelSchema,
  /** The origin browsers use; an https one makes the session cookie Secure. */
  PUBLIC_ORIGIN: httpUrl.optional(),
  WEB_ROOT: z.string().optional(),
  SUPERGRAPH_PATH: z.string().optional(),
  NATS_URL: natsUrlSchema,
  AUTH_URL: httpUrl.default("http://127.0.0.1:4001"),
  AUTH_JWKS_URL: jwksUrlSchema.optional(),
  PAYMENTS_WEBHOOK_URL: httpUrl.default("http://127.0.0.1:4004/webhooks/stripe"),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, "must be a redis:// or rediss:// URL")
    .default("redis://127.0.0.1:6479"),
  /** Origins whose pages may call the graph: `*`, or a comma-separated list. */
  CORS_ORIGINS: z.string().default("*"),
  PERSISTED_DOCUMENTS_PATH: z.string().optional(),
  TRUSTED_DOCUMENTS: onOff.default("off"),
  LIMIT_DEPTH: positiveInt.default(10),
  LIMIT_ALIASES: positiveInt.default(15),
  LIMIT_DIRECTIVES: positiveInt.default(10),
  LIMIT_TOKENS: positiveInt.default(1000),
  LIMIT_COST: positiveInt.default(5000),
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: positiveInt.optional(),
  RATE_LIMIT_KEYED_PER_MINUTE: positiveInt.default(1200),
  /** Subscriptions one WebSocket connection may hold. */
  LIVE_SUBSCRIPTIONS_PER_CONNECTION: positiveInt.default(25),
  /** Subscriptions one client (a user, or an address when anonymous) may hold over all its connections. */
  LIVE_SUBSCRIPTIONS_PER_CLIENT: positiveInt.default(200),
  /** A WebSocket connection without any subscription is closed after this long. */
  LIVE_IDLE_SECONDS: positiveInt.default(300),
  /**
   * The proxies in front of the gateway (an ingress controller, a load balancer) whose
   * `X-Forwarded-For` is believed: comma-separated addresses and CIDR blocks.
   */
  TRUSTED_PROXIES: z
    .string()
    .default(DEFAULT_TRUSTED_PROXIES)
    .transform((text, ctx) => {
      try {
        return parseTrustedProxies(text);
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
  SHUTDOWN_DELAY_MS: shutdownDelaySchema,
  SHUTDOWN_TIMEOUT_MS: shutdownTimeoutSchema,
  ...tracingEnvSchemas,
  /** `off`: every query goes to the subgraphs. */
  RESPONSE_CACHE: onOff.default("on"),
  /** How long a cached response lives when no event drops it first. */
  RESPONSE_CACHE_TTL_SECONDS: positiveInt.default(30),
  /** `max-age` for HTTP caches (partners' CDNs) on GET and persisted queries; they hear of no event. */
  RESPONSE_CACHE_HTTP_MAX_AGE_SECONDS: z.coerce.number().int().min(0).default(5),
  RESPONSE_CACHE_MAX_ENTRIES: positiveInt.default(10_000),
  RESPONSE_CACHE_MAX_MB: positiveInt.default(64),
  ...Object.fromEntries(
    SUBGRAPHS.map((subgraph) => [`SUBGRAPH_${subgraph.name.toUpperCase()}_URL`, httpUrl.optional()]),
  ),
});

function builtSpa(): string {
  const manifest = fileURLToPath(import.meta.resolve("@ticketing/web/package.json"));
  return join(dirname(manifest), "dist");
}

/** The gateway's configuration, parsed once; every problem is reported together. */
export function loadEnv(source: EnvSource = process.env) {
  const env = parseEnv(schema, source);
  const subgraphUrls = Object.fromEntries(
    SUBGRAPHS.map((subgraph) => [
      subgraph.name,
      ((env as Record<string, unknown>)[`SUBGRAPH_${subgraph.name.toUpperCase()}_URL`] as
        string | undefined) ?? subgraph.url,
    ]),
  ) as Record<SubgraphName, string>;
  const port = env.PUBLIC_PORT ?? env.PORT;
  const publicOrigin = (env.PUBLIC_ORIGIN ?? `http://localhost:${port}`).replace(/\/$/, "");
  const production = env.NODE_ENV === "production";
  const webRoot = env.WEB_ROOT ?? builtSpa();
  return {
    production,
    http: { port, host: env.HOST },
    metrics: { port: env.METRICS_PORT },
    trustedProxies: env.TRUSTED_PROXIES,
    shutdown: { delayMs: env.SHUTDOWN_DELAY_MS, timeoutMs: env.SHUTDOWN_TIMEOUT_MS },
    logLevel: env.LOG_LEVEL,
    tracing: tracingEnv(env),
    publicOrigin,
    secureCookies: publicOrigin.startsWith("https:"),
    webRoot,
    supergraphPath: env.SUPERGRAPH_PATH ?? fileURLToPath(new URL("../supergraph.graphql", import.meta.url)),
    natsUrl: env.NATS_URL,
    authUrl: env.AUTH_URL.replace(/\/$/, ""),
    jwksUrl: env.AUTH_JWKS_URL ?? `${env.AUTH_URL.replace(/\/$/, "")}/.well-known/jwks.json`,
    paymentsWebhookUrl: env.PAYMENTS_WEBHOOK_URL,
    subgraphUrls,
    redisUrl: env.REDIS_URL,
    live: {
      perConnection: env.LIVE_SUBSCRIPTIONS_PER_CONNECTION,
      perClient: env.LIVE_SUBSCRIPTIONS_PER_CLIENT,
      idleSeconds: env.LIVE_IDLE_SECONDS,
    },
    responseCache: {
      enabled: env.RESPONSE_CACHE === "on",
      ttlSeconds: env.RESPONSE_CACHE_TTL_SECONDS,
      httpMaxAgeSeconds: env.RESPONSE_CACHE_HTTP_MAX_AGE_SECONDS,
      maxEntries: env.RESPONSE_CACHE_MAX_ENTRIES,
      maxBytes: env.RESPONSE_CACHE_MAX_MB * 1024 * 1024,
    },
    publicGraph: {
      corsOrigins:
        env.CORS_ORIGINS.trim() === "*"
          ? ("*" as const)
          : env.CORS_ORIGINS.split(",")
              .map((origin) => origin.trim().replace(/\/$/, ""))
              .filter(Boolean),
      persistedDocumentsPath: env.PERSISTED_DOCUMENTS_PATH ?? join(webRoot, "persisted-documents.json"),
      trustedDocuments: env.TRUSTED_DOCUMENTS === "on",
      limits: {
        depth: env.LIMIT_DEPTH,
        aliases: env.LIMIT_ALIASES,
        directives: env.LIMIT_DIRECTIVES,
        tokens: env.LIMIT_TOKENS,
        cost: env.LIMIT_COST,
      },
      rateLimits: {
        // Generous outside production, where one address is every developer, test and benchmark.
        anonymousPerMinute: env.RATE_LIMIT_ANONYMOUS_PER_MINUTE ?? (production ? 300 : 10_000),
        keyedPerMinute: env.RATE_LIMIT_KEYED_PER_MINUTE,
      },
    },
  };
}

export type Env = ReturnType<typeof loadEnv>;

/**
 * @apollo/gateway sends usage metrics to Apollo's servers (and probes cloud metadata endpoints)
 * unless this is set: the product talks to nobody outside itself.
 */
export function disableApolloTelemetry(): void {
  process.env.APOLLO_TELEMETRY_DISABLED = "true";
}
