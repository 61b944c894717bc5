// The TICKETING stream read directly, as the record of what the system did: counting an order's
// events there says whether something was done twice or never.
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { DLQ_STREAM, STREAM } from "@ticketing/shared-events";

export interface StreamEvent {
  seq: number;
  /** When the server stored it (epoch ms): when the event was actually published. */
  storedAt: number;
  subject: string;
  id: string;
  aggregateId: string;
  version: number;
  data: Record<string, unknown>;
}

export interface StreamRecord {
  firstSeq: number;
  lastSeq: number;
  messages: number;
  events: StreamEvent[];
  deadLetters: number;
}

async function withNats<T>(url: string, use: (nc: NatsConnection) => Promise<T>): Promise<T> {
  // A connection per read: the test's own connection must not be what a NATS restart breaks.
  const nc = await connect({ servers: url, maxReconnectAttempts: 0, timeout: 5_000 });
  try {
    return await use(nc);
  } finally {
    await nc.close();
  }
}

/** Every event on the stream, in order, and how many messages were dead-lettered. */
export function readStream(natsUrl: string): Promise<StreamRecord> {
  return withNats(natsUrl, async (nc) => {
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(STREAM);
    const events: StreamEvent[] = [];
    for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
      const message = await jsm.streams.getMessage(STREAM, { seq });
      if (!message) continue;
      const envelope = message.json<Omit<StreamEvent, "seq">>();
      events.push({ ...envelope, seq, storedAt: message.time.getTime(), subject: message.subject });
    }
    const deadLetters = (await jsm.streams.info(DLQ_STREAM)).state.messages;
    return {
      firstSeq: state.first_seq,
      lastSeq: state.last_seq,
      messages: state.messages,
      events,
      deadLetters,
    };
  });
}

/** Events of `subject` about one order (its id, or the orderId of a payment or expiration). */
export function aboutOrder(record: StreamRecord, subject: string, orderId: string): StreamEvent[] {
  return record.events.filter(
    (event) => event.subject === subject && (event.data.orderId === orderId || event.data.id === orderId),
  );
}

/** Events of `subject` about one ticket. */
export function aboutTicket(record: StreamRecord, subject: string, ticketId: string): StreamEvent[] {
  return record.events.filter(
    (event) => event.subject === subject && (event.data.ticketId === ticketId || event.data.id === ticketId),
  );
}

/**
 * What the stream holds twice: an event id (the server drops a re-published id within its
 * window, so a second copy means a second decision), or an aggregate's version (two different
 * events both claiming to be version n: a forked aggregate, a change done twice).
 */
export function duplicates(record: StreamRecord): string[] {
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const event of record.events) {
    const keys = [`id ${event.id}`];
    // Events of no aggregate log carry version 0; the aggregate is named by the subject's middle part.
    if (event.version > 0) keys.push(`${event.subject.split(".")[1]} ${event.aggregateId} v${event.version}`);
    for (const key of keys) {
      if (seen.has(key)) twice.push(`${key} (${event.subject}, seq ${event.seq})`);
      seen.add(key);
    }
  }
  return twice;
}

/** Durable consumers that have not yet processed everything (name: pending + unacknowledged). */
export function lagging(natsUrl: string): Promise<Record<string, number>> {
  return withNats(natsUrl, async (nc) => {
    const jsm = await jetstreamManager(nc);
    const behind: Record<string, number> = {};
    // Ordered consumers (the live feeds, revocations) are each process's own and have no name.
    for (const info of await jsm.consumers.list(STREAM).next()) {
      const durable = info.config.durable_name;
      const left = info.num_pending + info.num_ack_pending;
      if (durable && left > 0) behind[durable] = left;
    }
    return behind;
  });
}
