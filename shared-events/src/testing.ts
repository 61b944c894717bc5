// For other packages' tests: play another service on the stream, and read what was published.
import { randomUUID } from "node:crypto";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { isEventOf, parseEnvelope, STREAM, type Envelope, type Payload, type Subject } from "./catalogue.js";
import { createPublisher, type Publisher } from "./publisher.js";
import { ensureStreams } from "./stream.js";

export class TestStream {
  private constructor(
    readonly nc: NatsConnection,
    readonly publisher: Publisher,
  ) {}

  static async open(natsUrl: string): Promise<TestStream> {
    const nc = await connect({ servers: natsUrl });
    await ensureStreams(nc);
    return new TestStream(nc, createPublisher(nc));
  }

  /**
   * Publishes an event as its owner would. `id` fixes the envelope id, as a redelivery would carry
   * it; `aggregateId` defaults to the payload's `id`, `version` to the payload's or 1.
   */
  publish<S extends Subject>(
    subject: S,
    data: Payload<S>,
    { id = randomUUID(), aggregateId, version }: { id?: string; aggregateId?: string; version?: number } = {},
  ): Promise<Envelope<S>> {
    return this.publisher.publish(subject, data, {
      aggregateId: aggregateId ?? ("id" in data ? data.id : undefined) ?? "test",
      id,
      version: version ?? ("version" in data ? data.version : undefined) ?? 1,
    });
  }

  /**
   * Sends the same envelope again under another message id, so that the stream stores it twice:
   * what a consumer sees when an event is delivered again.
   */
  async redeliver(envelope: Envelope): Promise<void> {
    await jetstream(this.nc).publish(envelope.subject, JSON.stringify(envelope), { msgID: randomUUID() });
  }

  async lastSeq(): Promise<number> {
    const jsm = await jetstreamManager(this.nc);
    return (await jsm.streams.info(STREAM)).state.last_seq;
  }

  /** The events of `subject` stored after sequence `since`, oldest first. */
  async since<S extends Subject>(since: number, subject: S): Promise<Envelope<S>[]> {
    const jsm = await jetstreamManager(this.nc);
    const last = await this.lastSeq();
    const events: Envelope<S>[] = [];
    for (let seq = since + 1; seq <= last; seq++) {
      const message = await jsm.streams.getMessage(STREAM, { seq }).catch(() => null);
      if (message?.subject !== subject) continue;
      const event = parseEnvelope(message.json());
      if (isEventOf(event, subject)) events.push(event);
    }
    return events;
  }

  close(): Promise<void> {
    return this.nc.close();
  }
}
