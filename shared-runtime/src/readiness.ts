import type { NatsConnection } from "@nats-io/transport-node";
import mongoose, { type Connection } from "mongoose";
import type { Logger } from "pino";
import { withTimeout } from "./timeout.js";

/** Resolves true when ready; false or a throw means not ready. */
export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface ReadinessOptions {
  mongo?: Connection;
  nats?: NatsConnection;
  checks?: Record<string, ReadinessCheck>;
  /** Per check; a hung server counts as not ready. */
  timeoutMs?: number;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, "ok" | "failed">;
}

export function mongoCheck(connection: Connection): ReadinessCheck {
  return async () => {
    // readyState alone stays 1 for a while after the server has gone; the ping asks it.
    if (connection.readyState !== mongoose.ConnectionStates.connected || !connection.db) return false;
    await connection.db.command({ ping: 1 });
    return true;
  };
}

export function natsCheck(connection: NatsConnection): ReadinessCheck {
  return async () => {
    if (connection.isClosed() || connection.isDraining()) return false;
    // While reconnecting the client buffers; the flush only returns once the server answers.
    await connection.flush();
    return true;
  };
}

export function createReadiness(
  { mongo, nats, checks = {}, timeoutMs = 2_000 }: ReadinessOptions,
  logger: Logger,
): () => Promise<ReadinessReport> {
  const all: Record<string, ReadinessCheck> = {
    ...(mongo && { mongo: mongoCheck(mongo) }),
    ...(nats && { nats: natsCheck(nats) }),
    ...checks,
  };
  return async () => {
    const results = await Promise.all(
      Object.entries(all).map(async ([name, check]) => {
        try {
          const ok = await withTimeout(Promise.resolve(check()), timeoutMs, `readiness check ${name}`);
          if (!ok) logger.warn({ check: name }, "not ready");
          return [name, ok ? "ok" : "failed"] as const;
        } catch (err) {
          logger.warn({ check: name, err }, "not ready");
          return [name, "failed"] as const;
        }
      }),
    );
    return { ready: results.every(([, result]) => result === "ok"), checks: Object.fromEntries(results) };
  };
}
