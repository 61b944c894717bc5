import "reflect-metadata";
import { createLogger, gracefulShutdown } from "@ticketing/shared-runtime";
import { loadEnv, type TicketsEnv } from "./env.js";
import { createTicketsService } from "./service.js";

let env: TicketsEnv;
try {
  env = loadEnv();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

const logger = createLogger("tickets", env.LOG_LEVEL);
try {
  const service = await createTicketsService(env, { logger });
  await service.listen();
  gracefulShutdown({ logger, timeoutMs: 10_000, steps: service.shutdownSteps });
} catch (err) {
  logger.fatal({ err }, "tickets failed to start");
  process.exit(1);
}
