// Every process keeps the sessions revoked within a token's lifetime, from `session.revoked`
// events, so a signed-out token is refused everywhere within moments, not at its expiry.
// Each process reads all of them (a follower of its own, not a shared durable consumer).
import type { NatsConnection } from "@nats-io/transport-node";
import { follow } from "@ticketing/shared-events";
import type { Logger } from "pino";

export interface RevokedSessions {
  isRevoked(sessionId: string): boolean;
  stop(): Promise<void>;
}

export interface RevokedSessionsOptions {
  /** How far back to read: at least a token's lifetime, since older tokens have expired anyway. */
  lookbackMs: number;
  logger: Logger;
}

export async function watchRevokedSessions(
  nc: NatsConnection,
  { lookbackMs, logger }: RevokedSessionsOptions,
): Promise<RevokedSessions> {
  const revokedAt = new Map<string, number>();
  const follower = await follow(
    nc,
    "ticketing.session.revoked",
    { from: new Date(Date.now() - lookbackMs), logger },
    (event) => {
      revokedAt.set(event.data.sessionId, Date.parse(event.occurredAt));
    },
  );
  const sweep = setInterval(() => {
    const horizon = Date.now() - lookbackMs;
    for (const [sessionId, at] of revokedAt) if (at < horizon) revokedAt.delete(sessionId);
  }, 60_000);
  sweep.unref();

  return {
    isRevoked: (sessionId) => revokedAt.has(sessionId),
    async stop() {
      clearInterval(sweep);
      await follower.stop();
    },
  };
}
