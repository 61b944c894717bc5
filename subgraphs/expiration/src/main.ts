import { createLogger, gracefulShutdown } from "@ticketing/shared-runtime";
import { loadEnv, type ExpirationEnv } from "./env.js";
import { createExpirationService } from "./service.js";

let env: ExpirationEnv;
try {
  env = loadEnv();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

const logger = createLogger("expiration", env.LOG_LEVEL);
try {
  const service = await createExpirationService(env, { logger });
  await service.listen();
  gracefulShutdown({ logger, timeoutMs: 10_000, steps: service.shutdownSteps });
} catch (err) {
  logger.fatal({ err }, "expiration failed to start");
  process.exit(1);
}
