import {
  logLevelSchema,
  natsUrlSchema,
  nodeEnvSchema,
  parseEnv,
  portSchema,
  shutdownDelaySchema,
  shutdownTimeoutSchema,
  tracingEnvSchemas,
  type EnvSource,
} from "@ticketing/shared-runtime";
import { z } from "zod";

// Not commonEnv(): the worker keeps no MongoDB database and verifies no tokens. The hold itself
// is not configured here either: each order.created carries its `expiresAt`, which orders computes
// from its ORDER_HOLD_SECONDS.
const schema = z.object({
  NODE_ENV: nodeEnvSchema,
  // Loopback unless told otherwise (the Dockerfile and the chart say HOST=0.0.0.0).
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: portSchema(4005),
  LOG_LEVEL: logLevelSchema,
  NATS_URL: natsUrlSchema,
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, "must be a redis:// or rediss:// URL")
    .default("redis://127.0.0.1:6479"),
  /**
   * Due holds published at once. A hold's job mostly waits: on JetStream's ack of its publish, then
   * on Redis. Ten at a time made a thousand holds ending in the same second wait seconds for their
   * turn; a hundred in flight cost little more memory than ten.
   */
  EXPIRATION_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(100),
  SHUTDOWN_DELAY_MS: shutdownDelaySchema,
  SHUTDOWN_TIMEOUT_MS: shutdownTimeoutSchema,
  ...tracingEnvSchemas,
});

export type ExpirationEnv = z.output<typeof schema>;

/** Every variable expiration reads; the README's table lists exactly these. */
export const ENV_VARIABLES = Object.keys(schema.shape);

export const loadEnv = (source: EnvSource = process.env): ExpirationEnv => parseEnv(schema, source);
