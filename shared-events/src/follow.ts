// Following subjects of the stream as one process, for state kept in memory (revoked sessions and
// keys, live feeds): an ordered consumer, which the server keeps for no one, so nothing is left
// behind when the process goes. The follower keeps its own place, the stream sequence of the last
// message it handled, and opens a new ordered consumer right after it whenever the current one may
// have lost its place: a reconnect (a restarted server has forgotten its in-memory consumers), a
// reset by the client library, an error. So a NATS restart costs no event and repeats none.
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JsMsg,
} from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { inConsumerSpan } from "./tracing.js";
import { parseEnvelope, STREAM, SUBJECT_PREFIX, type Envelope, type Subject } from "./catalogue.js";

/**
 * Where to start: every event still on the stream; those published from now on; those stored
 * since a time; or those after a stream sequence (a cursor handed out earlier).
 */
export type FollowFrom = "all" | "new" | Date | { after: number };

export interface FollowOptions {
  from: FollowFrom;
  logger: Logger;
  /** Messages fetched ahead of the handler. */
  prefetch?: number;
}

/** Gets each event in stream order with its stream sequence; the next waits for it to settle. */
export type FollowHandler<S extends Subject> = (event: Envelope<S>, seq: number) => void | Promise<void>;

export interface Follower {
  /** The stream sequence of the last message handled or passed over; a restart resumes after it. */
  position(): number;
  /** Stops following; waits for the handler in progress. */
  stop(): Promise<void>;
  /**
   * Settles once the follower has ended for good: with null after `stop()`, with the reason when
   * its NATS connection closed (a connection that reconnects forever closes only when told to).
   */
  readonly ended: Promise<Error | null>;
}

/** How long a pull waits on the server; missing heartbeats (half of it, twice) make the client re-pull. */
const PULL_EXPIRES_MS = 5_000;
/** Between attempts to open a consumer while the server cannot be reached: doubling, capped. */
const RETRY_BASE_MS = 250;
const RETRY_CAP_MS = 5_000;

/**
 * The narrowest subject filter the server can apply for these subjects: nats-server 2.9 takes one
 * filter per consumer, so several subjects share a wildcard and the rest is filtered here.
 */
export function filterFor(subjects: readonly Subject[]): string {
  const split = [...new Set(subjects)].map((subject) => subject.split("."));
  const [first, ...others] = split;
  if (!first) return `${SUBJECT_PREFIX}.>`;
  if (others.length === 0) return first.join(".");
  let common = 0;
  while (common < first.length && others.every((tokens) => tokens[common] === first[common])) common++;
  const prefix = first.slice(0, Math.max(common, 1)).join(".");
  const sameDepth = others.every((tokens) => tokens.length === first.length);
  return sameDepth && common === first.length - 1 ? `${prefix}.*` : `${prefix}.>`;
}

/**
 * The stream sequence just before `from`. "new" and a time are asked of the server with a consumer
 * that lives for the question, so that the follower always opens its consumers at a sequence: the
 * client library, recreating a consumer that started "new" before any message, would start it over
 * at the stream's first message.
 */
async function sequenceBefore(nc: NatsConnection, filter: string, from: FollowFrom): Promise<number> {
  if (from === "all") return 0;
  if (from !== "new" && !(from instanceof Date)) {
    if (!Number.isSafeInteger(from.after) || from.after < 0) {
      throw new RangeError(`not a stream sequence: ${from.after}`);
    }
    return from.after;
  }
  const jsm = await jetstreamManager(nc);
  const probe = await jsm.consumers.add(STREAM, {
    ack_policy: AckPolicy.None,
    filter_subject: filter,
    mem_storage: true,
    num_replicas: 1,
    inactive_threshold: nanos(30_000),
    ...(from === "new"
      ? { deliver_policy: DeliverPolicy.New }
      : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: from.toISOString() }),
  });
  jsm.consumers.delete(STREAM, probe.name).catch(() => undefined);
  // A consumer that has delivered nothing reports the sequence before its first one as delivered.
  return probe.delivered.stream_seq;
}

/** One status loop per connection, however many followers it serves. */
const reconnectListeners = new WeakMap<NatsConnection, Set<() => void>>();

function onReconnect(nc: NatsConnection, listener: () => void): () => void {
  let listeners = reconnectListeners.get(nc);
  if (!listeners) {
    const created = new Set<() => void>();
    listeners = created;
    reconnectListeners.set(nc, created);
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === "reconnect") for (const notify of [...created]) notify();
      }
    })();
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Follows `subjects` from `from` on: `handler` gets each event parsed and typed by its subject,
 * one at a time, in stream order, exactly once, also across reconnects and server restarts. It
 * resolves once the first consumer is open (and rejects when it cannot be); from then on it retries
 * by itself until `stop()`. A message that is not a valid event, or whose handler throws, is logged
 * and passed over.
 */
export async function follow<S extends Subject>(
  nc: NatsConnection,
  subjects: S | readonly S[],
  options: FollowOptions,
  handler: FollowHandler<S>,
): Promise<Follower> {
  const wanted = new Set<Subject>(typeof subjects === "string" ? [subjects] : subjects);
  // A parsed event is of some subject; these are the ones asked for, so it is an Envelope<S>.
  const isWanted = (event: Envelope | Envelope<S>): event is Envelope<S> => wanted.has(event.subject);
  const filter = filterFor([...wanted]);
  const logger = options.logger.child({ following: filter });
  const prefetch = options.prefetch ?? 100;
  const js = jetstream(nc);

  let last = await sequenceBefore(nc, filter, options.from);
  let stopped = false;
  let current: ConsumerMessages | undefined;
  let wake: (() => void) | undefined;

  async function open() {
    const consumer = await js.consumers.get(STREAM, {
      filter_subjects: filter,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: last + 1,
    });
    const messages = await consumer.consume({ max_messages: prefetch, expires: PULL_EXPIRES_MS });
    return { consumer, messages };
  }

  /** Ends the current consumer so that the loop opens another after `last`; wakes a waiting retry. */
  function restart(reason: string) {
    if (current) {
      logger.debug({ reason, after: last }, "reopening the stream consumer");
      current.stop();
    }
    wake?.();
  }

  async function handle(msg: JsMsg) {
    const { seq } = msg;
    let event: Envelope;
    try {
      event = parseEnvelope(msg.json());
    } catch (error) {
      logger.warn({ err: error, seq }, "not an event; passed over");
      return;
    }
    if (!isWanted(event)) return;
    try {
      await inConsumerSpan(event.subject, msg.headers, {}, async () => handler(event, seq));
    } catch (error) {
      logger.error({ err: error, seq, subject: event.subject }, "event handler failed; passed over");
    }
  }

  /** Hands every message of one consumer to the handler until it ends, by error or by restart. */
  async function drain(messages: ConsumerMessages) {
    void (async () => {
      for await (const status of messages.status()) {
        // The library recreates a lost consumer itself, but keeps the pull accounting of the old
        // one, which can leave nothing pulled until heartbeats are missed (seconds of silence):
        // start afresh instead, also as soon as the server says the consumer was deleted.
        if (status.type === "reset" || status.type === "consumer_deleted") restart(status.type);
      }
    })();
    try {
      for await (const msg of messages) {
        // An ordered consumer opened after `last` never repeats one; this holds even if it did.
        if (msg.seq <= last) continue;
        await handle(msg);
        last = msg.seq;
        if (stopped) break;
      }
    } catch (error) {
      if (!stopped) logger.warn({ err: error, after: last }, "stream consumer failed; reopening it");
    } finally {
      messages.stop();
    }
  }

  function pause(ms: number) {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  }

  async function run(first: Awaited<ReturnType<typeof open>>): Promise<Error | null> {
    const forget = onReconnect(nc, () => restart("reconnected"));
    let next: Awaited<ReturnType<typeof open>> | undefined = first;
    let failures = 0;
    try {
      while (!stopped) {
        if (!next) {
          try {
            next = await open();
          } catch (error) {
            if (nc.isClosed()) break;
            failures++;
            const log = failures === 1 ? logger.warn.bind(logger) : logger.debug.bind(logger);
            log({ err: error, after: last, attempt: failures }, "cannot open a stream consumer; retrying");
            const ceiling = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** (failures - 1));
            await pause(ceiling / 2 + Math.random() * (ceiling / 2));
            continue;
          }
          if (failures > 0) logger.info({ after: last, attempts: failures }, "following the stream again");
          failures = 0;
        }
        const { consumer, messages } = next;
        next = undefined;
        current = messages;
        if (stopped) messages.stop();
        else await drain(messages);
        current = undefined;
        // Best effort: a consumer no one pulls from goes by itself after a few minutes.
        consumer.delete().catch(() => undefined);
        if (nc.isClosed()) break;
      }
    } finally {
      forget();
    }
    if (stopped) return null;
    logger.error({ after: last }, "the NATS connection closed; no longer following");
    return new Error("the NATS connection closed");
  }

  const ended = run(await open());
  return {
    position: () => last,
    ended,
    async stop() {
      stopped = true;
      restart("stopped");
      await ended;
    },
  };
}
