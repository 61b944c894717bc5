import { z } from "zod";

export const NODE_ENVS = ["development", "production", "test"] as const;
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export const nodeEnvSchema = z.enum(NODE_ENVS).default("development");
export const logLevelSchema = z.enum(LOG_LEVELS).default("info");

export function portSchema(fallback: number) {
  return z.coerce.number().int().min(0).max(65_535).default(fallback);
}

// Not z.url(): a replica-set URL (`mongodb://a:27017,b:27017/`) is valid for the driver but not for WHATWG URL.
export const mongoUrlSchema = z
  .string()
  .regex(/^mongodb(\+srv)?:\/\/\S+$/, "must be a mongodb:// or mongodb+srv:// URL")
  .default("mongodb://127.0.0.1:27027/");

// The NATS client takes a comma-separated list of servers, each a URL or host:port.
export const natsUrlSchema = z
  .string()
  .regex(/^((nats|tls):\/\/)?[^\s,]+(,((nats|tls):\/\/)?[^\s,]+)*$/, "must be nats://host:port[,…]")
  .default("nats://127.0.0.1:4322");

export const jwksUrlSchema = z.url({ protocol: /^https?$/ });

/**
 * After SIGTERM, how long a service goes on serving while it reports itself unready: the time
 * endpoint controllers, proxies and load balancers take to stop sending it requests. Nothing
 * routes around a process under `npm start` (one per service), so 0 there; the chart sets it.
 */
export const shutdownDelaySchema = z.coerce.number().int().min(0).max(120_000).default(0);
/**
 * From SIGTERM to exit, the drain delay included: every shutdown step shares what remains of it.
 * It must stay under the platform's grace period (Kubernetes' terminationGracePeriodSeconds, the
 * `npm start` supervisor's 30 s), after which the process is killed.
 */
export const shutdownTimeoutSchema = z.coerce.number().int().min(1_000).max(600_000).default(25_000);

const otlpUrlSchema = z.url({ protocol: /^https?$/ }).optional();

/**
 * The standard OpenTelemetry variables a service reads (docs/operations.md, Traces): without an
 * endpoint no span is recorded or sent, though trace ids still reach the logs and the calls.
 */
export const tracingEnvSchemas = {
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrlSchema,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrlSchema,
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(["http/protobuf", "http/json"]).default("http/protobuf"),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  OTEL_SDK_DISABLED: z.enum(["true", "false"]).default("false"),
  /** Headers sent with every export (a collector's credentials): `key=value,key2=value2`, values URL-encoded. */
  OTEL_EXPORTER_OTLP_HEADERS: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      const headers: Record<string, string> = {};
      for (const pair of text.split(",")) {
        const at = pair.indexOf("=");
        const key = pair.slice(0, at).trim();
        if (at < 1 || !/^[!#$%&'*+.^`|~\w-]+$/.test(key)) {
          ctx.addIssue({ code: "custom", message: "must be key=value pairs separated by commas" });
          return z.NEVER;
        }
        try {
          headers[key] = decodeURIComponent(pair.slice(at + 1).trim());
        } catch {
          ctx.addIssue({ code: "custom", message: `the value of ${key} is not URL-encoded text` });
          return z.NEVER;
        }
      }
      return headers;
    }),
};

/** The tracing variables as parsed by `tracingEnvSchemas`. */
export type TracingEnv = z.output<z.ZodObject<typeof tracingEnvSchemas>>;

/**
 * The settings every service has; spread into the service's own schema:
 * `z.object({ ...commonEnv({ port: 4001, authJwksUrl: "http://127.0.0.1:4001/.well-known/jwks.json" }), … })`.
 */
export function commonEnv({ port, authJwksUrl }: { port: number; authJwksUrl?: string }) {
  return {
    NODE_ENV: nodeEnvSchema,
    // Loopback unless told otherwise: a service is reached through the gateway, and a container
    // platform says HOST=0.0.0.0 (the Dockerfiles and the chart do).
    HOST: z.string().min(1).default("127.0.0.1"),
    PORT: portSchema(port),
    LOG_LEVEL: logLevelSchema,
    MONGO_URL: mongoUrlSchema,
    NATS_URL: natsUrlSchema,
    AUTH_JWKS_URL: authJwksUrl === undefined ? jwksUrlSchema : jwksUrlSchema.default(authJwksUrl),
    SHUTDOWN_DELAY_MS: shutdownDelaySchema,
    SHUTDOWN_TIMEOUT_MS: shutdownTimeoutSchema,
    ...tracingEnvSchemas,
  };
}

/** The tracing variables of a parsed environment. */
export function tracingEnv(env: TracingEnv): TracingEnv {
  return Object.fromEntries(
    Object.keys(tracingEnvSchemas).map((name) => [name, env[name as keyof TracingEnv]]),
  ) as TracingEnv;
}

export type EnvSource = Record<string, string | undefined>;

/**
 * Parses the environment once, at the edge. An empty variable counts as unset, so `FOO=` falls
 * back to the default. Throws one Error listing every problem; main.ts prints it and exits.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, source: EnvSource = process.env): z.output<S> {
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ""));
  const parsed = schema.safeParse(present);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `  ${issue.path.join(".") || "(root)"}: ${issue.message}`,
  );
  throw new Error(`Invalid environment:\n${problems.join("\n")}`);
}
