import { commonEnv, parseEnv, type EnvSource } from "@ticketing/shared-runtime";
import { z } from "zod";

const schema = z.object({
  ...commonEnv({ port: 4006, authJwksUrl: "http://127.0.0.1:4001/.well-known/jwks.json" }),
  /** How long one QR code step lasts: a code shows the step it was made in. */
  PASS_CODE_STEP_SECONDS: z.coerce.number().int().min(1).max(3_600).default(30),
  /** How many steps before or after the scanner's own a code is still accepted. */
  PASS_CODE_WINDOW_STEPS: z.coerce.number().int().min(0).max(10).default(1),
});

export type PassesEnv = z.output<typeof schema>;

/** Every variable passes reads; the README's table lists exactly these. */
export const ENV_VARIABLES = Object.keys(schema.shape);

export const loadEnv = (source: EnvSource = process.env): PassesEnv => parseEnv(schema, source);
