import "reflect-metadata";
import { createLogger, gracefulShutdown } from "@ticketing/shared-runtime";
import { loadEnv, type PaymentsEnv } from "./env.js";
import { createPaymentsService } from "./service.js";

let env: PaymentsEnv;
try {
  env = loadEnv();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

const logger = createLogger("payments", env.LOG_LEVEL);
try {
  const service = await createPaymentsService(env, { logger });
  await service.listen();
  gracefulShutdown({ logger, timeoutMs: 10_000, steps: service.shutdownSteps });
} catch (err) {
  logger.fatal({ err }, "payments failed to start");
  process.exit(1);
}
