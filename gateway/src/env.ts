import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  jwksUrlSchema,
  logLevelSchema,
  natsUrlSchema,
  nodeEnvSchema,
  parseEnv,
  portSchema,
  type EnvSource,
} from "@ticketing/shared-runtime";
import { z } from "zod";
import { SUBGRAPHS, type SubgraphName } from "./subgraphs.js";

const httpUrl = z.url({ protocol: /^https?$/ });

const schema = z.object({
  NODE_ENV: nodeEnvSchema,
  PORT: portSchema(4000),
  HOST: z.string().min(1).default("0.0.0.0"),
  LOG_LEVEL: logLevelSchema,
  /** The origin browsers use; an https one makes the session cookie Secure. */
  PUBLIC_ORIGIN: httpUrl.optional(),
  WEB_ROOT: z.string().optional(),
  SUPERGRAPH_PATH: z.string().optional(),
  NATS_URL: natsUrlSchema,
  AUTH_URL: httpUrl.default("http://127.0.0.1:4001"),
  AUTH_JWKS_URL: jwksUrlSchema.optional(),
  PAYMENTS_WEBHOOK_URL: httpUrl.default("http://127.0.0.1:4004/webhooks/stripe"),
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
  const publicOrigin = env.PUBLIC_ORIGIN ?? `http://localhost:${env.PORT}`;
  return {
    production: env.NODE_ENV === "production",
    http: { port: env.PORT, host: env.HOST },
    logLevel: env.LOG_LEVEL,
    publicOrigin,
    secureCookies: publicOrigin.startsWith("https:"),
    webRoot: env.WEB_ROOT ?? builtSpa(),
    supergraphPath: env.SUPERGRAPH_PATH ?? fileURLToPath(new URL("../supergraph.graphql", import.meta.url)),
    natsUrl: env.NATS_URL,
    authUrl: env.AUTH_URL.replace(/\/$/, ""),
    jwksUrl: env.AUTH_JWKS_URL ?? `${env.AUTH_URL.replace(/\/$/, "")}/.well-known/jwks.json`,
    paymentsWebhookUrl: env.PAYMENTS_WEBHOOK_URL,
    subgraphUrls,
  };
}

export type Env = ReturnType<typeof loadEnv>;
