import { randomUUID } from "node:crypto";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { validatePayload, type Envelope, type Payload, type Subject } from "./catalogue.js";
import { eventsInstrumentation } from "./instrumentation.js";
import { inProducerSpan, setTraceHeaders, type TraceCarrier } from "./tracing.js";

export interface PublishOptions {
  aggregateId: string;
  /** The aggregate version the event brings it to; 0 for events of no aggregate log. */
  version?: number;
  /** A stable id makes a retried publish a duplicate the server drops. Random when absent. */
  id?: string;
  meta?: Envelope["meta"];
}

export interface Published {
  seq: number;
  duplicate: boolean;
}

export interface Publisher {
  /** Validates the payload, sends the envelope with its id as Nats-Msg-Id, awaits the ack. */
  publish<S extends Subject>(
    subject: S,
    data: Payload<S>,
    options: PublishOptions,
  ): Promise<Envelope<S> & Published>;
  /**
   * Sends an envelope built elsewhere (the outbox relay), revalidating its payload. `trace`: the
   * context of the command that raised it (kept with its log entry); the active one when absent.
   */
  publishEnvelope<S extends Subject>(envelope: Envelope<S>, trace?: TraceCarrier): Promise<Published>;
  /**
   * Calls `listener` each time the connection comes back after an outage, so an outbox can
   * publish what waited for it at once; returns the unsubscribe.
   */
  onReconnect(listener: () => void): () => void;
}

export function envelopeOf<S extends Subject>(
  subject: S,
  data: Payload<S>,
  options: PublishOptions,
): Envelope<S> {
  return {
    id: options.id ?? randomUUID(),
    subject,
    occurredAt: new Date().toISOString(),
    aggregateId: options.aggregateId,
    version: options.version ?? 0,
    data: validatePayload(subject, data),
    ...(options.meta ? { meta: options.meta } : {}),
  };
}

export function createPublisher(nc: NatsConnection, { timeoutMs = 5_000 } = {}): Publisher {
  const js: JetStreamClient = jetstream(nc, { timeout: timeoutMs });

  async function publishEnvelope<S extends Subject>(
    envelope: Envelope<S>,
    trace?: TraceCarrier,
  ): Promise<Published> {
    validatePayload(envelope.subject, envelope.data);
    let ack;
    try {
      ack = await inProducerSpan(envelope.subject, trace, (carrier) => {
        let h;
        if (carrier) {
          h = headers();
          setTraceHeaders(h, carrier);
        }
        return js.publish(envelope.subject, JSON.stringify(envelope), {
          msgID: envelope.id,
          timeout: timeoutMs,
          ...(h && { headers: h }),
        });
      });
    } catch (error) {
      eventsInstrumentation().publishFailed(envelope.subject);
      throw error;
    }
    eventsInstrumentation().published(envelope.subject);
    return { seq: ack.seq, duplicate: ack.duplicate };
  }

  const reconnectListeners = new Set<() => void>();
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "reconnect") for (const listener of reconnectListeners) listener();
    }
  })();

  return {
    async publish(subject, data, options) {
      const envelope = envelopeOf(subject, data, options);
      return { ...envelope, ...(await publishEnvelope(envelope)) };
    },
    publishEnvelope,
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
  };
}
