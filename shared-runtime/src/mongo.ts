import mongoose, { type Connection, type mongo } from "mongoose";
import type { Logger } from "pino";
import { traceMongoCommands, tracesRecorded } from "./telemetry/tracing.js";

/**
 * Opens a connection of its own (never mongoose's global one) to database `dbName` on the server of
 * `url`. `dbName` overrides any database in the URL's path, while the path still decides the
 * default authSource, so credentials created in `admin` keep working.
 */
export async function connectMongo(
  url: string,
  dbName: string,
  logger: Logger,
  onCommand?: (event: mongo.CommandStartedEvent) => void,
): Promise<Connection> {
  const connection = mongoose.createConnection(url, {
    dbName,
    // The driver tells of each command only when someone listens: a hook, or recorded traces.
    monitorCommands: onCommand !== undefined || tracesRecorded(),
    // Each package's models create their indexes when it starts, awaited, one createIndex at a time
    // (docs/adr/0002-mongoose-models.md): nothing in the background when a model is compiled.
    autoIndex: false,
    autoCreate: false,
    // Fail fast at start-up and on a dead server instead of the driver's 30 s default.
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 10_000,
    socketTimeoutMS: 45_000,
    // How soon a server that came back is seen: until the driver's monitor sees it, mongoose holds
    // its models' commands and readiness stays false (the driver's default checks every 10 s).
    heartbeatFrequencyMS: 1_000,
  });
  connection.on("disconnected", () => logger.warn({ dbName }, "MongoDB disconnected"));
  connection.on("reconnected", () => logger.info({ dbName }, "MongoDB reconnected"));
  connection.on("error", (err: unknown) => logger.error({ err, dbName }, "MongoDB connection error"));
  if (onCommand) connection.getClient().on("commandStarted", onCommand);
  if (tracesRecorded()) traceMongoCommands(connection.getClient());
  try {
    await connection.asPromise();
  } catch (error) {
    await connection.close(true).catch(() => undefined);
    throw error;
  }
  logger.info({ dbName }, "MongoDB connected");
  return connection;
}
