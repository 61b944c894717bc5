// Durable pull consumer: bounded concurrency, explicit ack after the handler succeeds, nak with
// backoff on failure, dead-letter after the maximum number of deliveries.
import { jetstream, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { EventValidationError, parseEnvelope, type Envelope, type Subject } from "./catalogue.js";
import { ACK_WAIT_MS, DLQ_PREFIX, ensureConsumer, type ConsumerConfig } from "./stream.js";
import { STREAM } from "./catalogue.js";
import { eventsInstrumentation, type ConsumeOutcome } from "./instrumentation.js";
import { inConsumerSpan } from "./tracing.js";

/** Thrown by a handler that cannot apply the event yet (a replica missing an earlier version). */
export class RetryLater extends Error {
  override name = "RetryLater";
}

export type Handler<S extends Subject> = (event: Envelope<S>) => Promise<void>;
/** A handler per subject, each given that subject's parsed event. */
export type Handlers = { [S in Subject]?: Handler<S> };

/**
 * The handler of the event's subject applied to it, if there is one. Generic so that the compiler
 * pairs `handlers[event.subject]` with the event (a plain `Envelope` gives a union of handlers).
 */
function handlerFor<S extends Subject>(
  handlers: Handlers,
  event: Envelope<S>,
): (() => Promise<void>) | undefined {
  const handler: Handler<S> | undefined = handlers[event.subject];
  return handler && (() => handler(event));
}

export interface ConsumerOptions extends ConsumerConfig {
  nc: NatsConnection;
  handlers: Handlers;
  logger: Logger;
  /** Messages handled at once. */
  concurrency?: number;
  /** Deliveries before a failing message goes to the dead-letter stream. */
  maxDeliver?: number;
  /** Delay before each redelivery; the last one repeats. */
  backoffMs?: number[];
}

export interface RunningConsumer {
  /** Stops fetching, waits for the handlers in flight. */
  stop(): Promise<void>;
}

const DEFAULT_BACKOFF = [100, 500, 2_000, 5_000, 10_000];

export async function startConsumer(options: ConsumerOptions): Promise<RunningConsumer> {
  const { nc, handlers, durable } = options;
  const logger = options.logger.child({ consumer: durable });
  const concurrency = options.concurrency ?? 8;
  const maxDeliver = options.maxDeliver ?? 10;
  const backoff = options.backoffMs ?? DEFAULT_BACKOFF;
  const ackWaitMs = options.ackWaitMs ?? ACK_WAIT_MS;
  await ensureConsumer(nc, { maxAckPending: concurrency * 4, ...options });
  const js = jetstream(nc);
  const consumer = await js.consumers.get(STREAM, durable);
  const stopReporting = eventsInstrumentation().consumerStarted(durable, async () => {
    const info = await consumer.info();
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
  });

  async function deadLetter(msg: JsMsg, reason: string, about: Record<string, unknown> = {}) {
    const h = headers();
    h.set("Ticketing-Error", reason.slice(0, 1_000));
    h.set("Ticketing-Consumer", durable);
    h.set("Ticketing-Subject", msg.subject);
    h.set("Ticketing-Deliveries", String(msg.info.deliveryCount));
    await js.publish(`${DLQ_PREFIX}.${durable}.${msg.subject}`, msg.data, {
      msgID: `${durable}:${msg.seq}`,
      headers: h,
    });
    msg.term(reason.slice(0, 200));
    eventsInstrumentation().deadLettered(durable, msg.subject);
    logger.error({ subject: msg.subject, seq: msg.seq, ...about, reason }, "event dead-lettered");
  }

  async function handle(msg: JsMsg) {
    const started = performance.now();
    const outcome = await settle(msg);
    eventsInstrumentation().consumed(durable, msg.subject, outcome, (performance.now() - started) / 1_000);
  }

  async function settle(msg: JsMsg): Promise<ConsumeOutcome> {
    if (msg.info.deliveryCount > 1) eventsInstrumentation().redelivered(durable, msg.subject);
    let envelope: Envelope;
    try {
      envelope = parseEnvelope(msg.json());
    } catch (error) {
      // A message that is not a valid event never will be: no point retrying it.
      await deadLetter(msg, error instanceof EventValidationError ? error.message : "not JSON");
      return "dead_letter";
    }
    const run = handlerFor(handlers, envelope);
    if (!run) {
      msg.ack();
      return "ignored";
    }
    // A slow handler (a database under load) reports progress, so the server does not hand its
    // message to another process while it still works on it.
    const progress = setInterval(() => {
      try {
        msg.working();
      } catch {
        // The connection is gone; the message goes to another process after the ack wait.
      }
    }, ackWaitMs / 2);
    try {
      await inConsumerSpan(msg.subject, msg.headers, { "messaging.consumer.group.name": durable }, run);
      msg.ack();
      return "ack";
    } catch (error) {
      const attempt = msg.info.deliveryCount;
      const delay = backoff[Math.min(attempt - 1, backoff.length - 1)] ?? 1_000;
      // Which event, and the request that caused it, so a line can be found from either side.
      const about = {
        subject: msg.subject,
        seq: msg.seq,
        eventId: envelope.id,
        ...(envelope.meta?.requestId !== undefined && { requestId: envelope.meta.requestId }),
        attempt,
      };
      if (error instanceof RetryLater) {
        logger.debug({ ...about, reason: error.message }, "event deferred");
      } else {
        logger.warn({ err: error, ...about }, "event handler failed");
      }
      if (attempt >= maxDeliver) {
        await deadLetter(msg, error instanceof Error ? error.message : String(error), about);
        return "dead_letter";
      }
      msg.nak(delay);
      return "retry";
    } finally {
      clearInterval(progress);
    }
  }

  let messages: ConsumerMessages | undefined = await consumer.consume({ max_messages: concurrency * 2 });
  const inFlight = new Set<Promise<void>>();
  const loop = (async () => {
    for await (const msg of messages) {
      const task = handle(msg).catch((error: unknown) => {
        logger.error({ err: error, seq: msg.seq }, "event could not be settled; it will be redelivered");
      });
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task));
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
  })();

  return {
    async stop() {
      if (!messages) return;
      const current = messages;
      messages = undefined;
      stopReporting();
      await current.close();
      await loop.catch(() => undefined);
      await Promise.all(inFlight);
    },
  };
}
