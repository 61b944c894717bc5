import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  HOST: z.string().default("0.0.0.0"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  WEB_ROOT: z.string().optional(),
});

export type Env = ReturnType<typeof loadEnv>;

function builtSpa(): string {
  const manifest = fileURLToPath(import.meta.resolve("@ticketing/web/package.json"));
  return join(dirname(manifest), "dist");
}

/** The gateway's configuration, parsed once; every problem is reported together. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env) {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid environment:\n${problems.join("\n")}`);
  }
  const env = parsed.data;
  return {
    nodeEnv: env.NODE_ENV,
    http: { port: env.PORT, host: env.HOST },
    logLevel: env.LOG_LEVEL,
    webRoot: env.WEB_ROOT ?? builtSpa(),
  };
}
