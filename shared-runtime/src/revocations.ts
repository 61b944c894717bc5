// Every process keeps the sessions revoked within a token's lifetime, from `session.revoked`
// events, so a signed-out token is refused everywhere within moments, not at its expiry.
// Each process reads all of them (an ordered consumer of its own, not a shared durable one).
import { DeliverPolicy, jetstream, type ConsumerMessages } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { parseEnvelope, STREAM } from "@ticketing/shared-events";
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
  const js = jetstream(nc);
  const consumer = await js.consumers.get(STREAM, {
    filter_subjects: "ticketing.session.revoked",
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(Date.now() - lookbackMs).toISOString(),
  });
  let messages: ConsumerMessages | undefined = await consumer.consume();
  const loop = (async () => {
    for await (const msg of messages) {
      try {
        const event = parseEnvelope(msg.json());
        if (event.subject === "ticketing.session.revoked") {
          const data = event.data as { sessionId: string };
          revokedAt.set(data.sessionId, Date.parse(event.occurredAt));
        }
      } catch (error) {
        logger.warn({ err: error, seq: msg.seq }, "unreadable session.revoked event skipped");
      }
    }
  })();
  const sweep = setInterval(() => {
    const horizon = Date.now() - lookbackMs;
    for (const [sessionId, at] of revokedAt) if (at < horizon) revokedAt.delete(sessionId);
  }, 60_000);
  sweep.unref();

  return {
    isRevoked: (sessionId) => revokedAt.has(sessionId),
    async stop() {
      clearInterval(sweep);
      const current = messages;
      messages = undefined;
      await current?.close();
      await loop.catch(() => undefined);
    },
  };
}
