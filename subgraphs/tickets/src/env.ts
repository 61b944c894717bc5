import { commonEnv, parseEnv, type EnvSource } from "@ticketing/shared-runtime";
import { z } from "zod";

const schema = z.object({
  ...commonEnv({ port: 4002, authJwksUrl: "http://127.0.0.1:4001/.well-known/jwks.json" }),
  // "off" keeps an empty catalog empty; anything else seeds the demo shop into an empty one.
  DEMO_CATALOG: z.enum(["on", "off"]).default("on"),
});

export type TicketsEnv = z.output<typeof schema>;

/** Every variable tickets reads; the README's table lists exactly these. */
export const ENV_VARIABLES = Object.keys(schema.shape);

export const loadEnv = (source: EnvSource = process.env): TicketsEnv => parseEnv(schema, source);
