import pino from "pino";
import { loadEnv } from "./env.js";
import { createServer } from "./server.js";

let env;
try {
  env = loadEnv();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

const logger = pino({ name: "gateway", level: env.logLevel });
const app = createServer({ webRoot: env.webRoot, logger });
const server = app.listen(env.http.port, env.http.host, () => {
  logger.info(`Ticketing is at http://localhost:${env.http.port}/`);
});
server.on("error", (error) => {
  logger.fatal({ err: error }, "cannot listen");
  process.exit(1);
});

function shutdown(signal: string) {
  logger.info({ signal }, "shutting down");
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 10_000).unref();
}
process.once("SIGINT", () => shutdown("SIGINT"));
process.once("SIGTERM", () => shutdown("SIGTERM"));
