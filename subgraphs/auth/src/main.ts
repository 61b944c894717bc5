import "reflect-metadata";
import { createLogger, gracefulShutdown } from "@ticketing/shared-runtime";
import { loadEnv, type AuthEnv } from "./env.js";
import { createAuthService } from "./service.js";

let env: AuthEnv;
try {
  env = loadEnv();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

const logger = createLogger("auth", env.LOG_LEVEL);
try {
  const service = await createAuthService(env, { logger });
  await service.listen();
  gracefulShutdown({ logger, timeoutMs: 10_000, steps: service.shutdownSteps });
} catch (err) {
  logger.fatal({ err }, "auth failed to start");
  process.exit(1);
}
