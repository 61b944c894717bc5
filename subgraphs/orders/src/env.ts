import { commonEnv, parseEnv, type EnvSource } from "@ticketing/shared-runtime";
import { z } from "zod";

const schema = z.object({
  ...commonEnv({ port: 4003, authJwksUrl: "http://127.0.0.1:4001/.well-known/jwks.json" }),
  /** How long a reservation holds a ticket. */
  ORDER_HOLD_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** How often overdue orders are expired and the locks of ended orders released (catch-up). */
  ORDER_SWEEP_SECONDS: z.coerce.number().min(0.1).max(3_600).default(5),
});

export type OrdersEnv = z.output<typeof schema>;

/** Every variable orders reads; the README's table lists exactly these. */
export const ENV_VARIABLES = Object.keys(schema.shape);

export const loadEnv = (source: EnvSource = process.env): OrdersEnv => parseEnv(schema, source);
