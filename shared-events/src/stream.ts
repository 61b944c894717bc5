// Stream and consumer set-up. Uses nothing newer than nats-server 2.9 (one filter per consumer).
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import { STREAM, SUBJECT_PREFIX } from "./catalogue.js";

export const DLQ_STREAM = `${STREAM}_DLQ`;
export const DLQ_PREFIX = `${SUBJECT_PREFIX}_dlq`;
/** Re-publishes with the same message id within this window are dropped by the server. */
export const DUPLICATE_WINDOW_MS = 2 * 60_000;

function isNotFound(error: unknown): boolean {
  return error instanceof Error && /not found/i.test(error.message);
}

async function ensure(jsm: JetStreamManager, name: string, subjects: string[]) {
  const config = {
    name,
    subjects,
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    num_replicas: 1,
  };
  let existing;
  try {
    existing = await jsm.streams.info(name);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.streams.add(config);
    return;
  }
  // Only a stream set up differently is updated: a service's NATS user may create a missing
  // stream but not change one (only the JetStream setup's may).
  const same =
    existing.config.duplicate_window === config.duplicate_window &&
    existing.config.subjects.length === subjects.length &&
    subjects.every((subject) => existing.config.subjects.includes(subject));
  if (!same) await jsm.streams.update(name, { subjects, duplicate_window: config.duplicate_window });
}

/**
 * Creates the TICKETING stream and its dead-letter stream, or updates one whose subjects or duplicate
 * window differ. Safe to run from every service.
 */
export async function ensureStreams(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await ensure(jsm, STREAM, [`${SUBJECT_PREFIX}.>`]);
  await ensure(jsm, DLQ_STREAM, [`${DLQ_PREFIX}.>`]);
}

/**
 * How long the server waits for an ack before it delivers a message again. Short, so that an
 * event whose handler died with its process is taken up again within seconds; a handler still at
 * work keeps its message by reporting progress (see startConsumer).
 */
export const ACK_WAIT_MS = 5_000;

export interface ConsumerConfig {
  /** Durable name, unique per service and purpose, e.g. "orders-tickets". */
  durable: string;
  /** One subject or wildcard, e.g. "ticketing.order.>". */
  filterSubject: string;
  ackWaitMs?: number;
  maxAckPending?: number;
}

/** Creates the durable pull consumer, or updates it to this configuration. */
export async function ensureConsumer(nc: NatsConnection, config: ConsumerConfig): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const settings = {
    ack_wait: nanos(config.ackWaitMs ?? ACK_WAIT_MS),
    max_ack_pending: config.maxAckPending ?? 1_000,
    // Redelivery is bounded by the consumer itself, which dead-letters the message, so a
    // process that dies during the last attempt cannot lose it.
    max_deliver: -1,
    filter_subject: config.filterSubject,
  };
  try {
    await jsm.consumers.info(STREAM, config.durable);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.consumers.add(STREAM, {
      durable_name: config.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...settings,
    });
    return;
  }
  await jsm.consumers.update(STREAM, config.durable, settings);
}
