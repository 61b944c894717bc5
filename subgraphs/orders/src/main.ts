import "reflect-metadata";
import { createLogger, gracefulShutdown } from "@ticketing/shared-runtime";
import { loadEnv, type OrdersEnv } from "./env.js";
import { createOrdersService } from "./service.js";

let env: OrdersEnv;
try {
  env = loadEnv();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

const logger = createLogger("orders", env.LOG_LEVEL);
try {
  const service = await createOrdersService(env, { logger });
  await service.listen();
  gracefulShutdown({ logger, timeoutMs: 10_000, steps: service.shutdownSteps });
} catch (err) {
  logger.fatal({ err }, "orders failed to start");
  process.exit(1);
}
