// The ops feed: every event on the stream, from a cursor (its stream sequence) on, then live. An
// ordered consumer per subscriber starts right after the cursor, so nothing is missed or repeated
// across a reconnect; it is pulled only as fast as the client reads.
import { DeliverPolicy, jetstream, type ConsumerMessages } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { STREAM } from "@ticketing/shared-events";

export interface OpsEvent {
  cursor: string;
  subject: string;
  occurredAt: string;
  data: unknown;
}

export async function opsEvents(
  nc: NatsConnection,
  since: number | null,
): Promise<{
  iterator: AsyncIterator<OpsEvent>;
  stop(): void;
}> {
  const consumer = await jetstream(nc).consumers.get(
    STREAM,
    since === null
      ? { deliver_policy: DeliverPolicy.New }
      : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: since + 1 },
  );
  const messages: ConsumerMessages = await consumer.consume({ max_messages: 256 });
  const source = messages[Symbol.asyncIterator]();
  return {
    iterator: {
      async next() {
        for (;;) {
          const next = await source.next();
          if (next.done) return { done: true, value: undefined };
          const msg = next.value;
          let envelope: { occurredAt?: unknown; data?: unknown };
          try {
            envelope = msg.json();
          } catch {
            envelope = {};
          }
          return {
            done: false,
            value: {
              cursor: String(msg.seq),
              subject: msg.subject,
              // Every event carries its time; a foreign message on the stream gets when it is read.
              occurredAt:
                typeof envelope.occurredAt === "string" ? envelope.occurredAt : new Date().toISOString(),
              data: envelope.data ?? null,
            },
          };
        }
      },
    },
    stop: () => messages.stop(),
  };
}
