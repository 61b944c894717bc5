import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { infra } from "@ticketing/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AppliedEvents,
  DLQ_STREAM,
  instrumentEvents,
  replicaStep,
  startConsumer,
  type ConsumerBacklogReading,
  type Envelope,
  type RunningConsumer,
} from "../src/index.js";
import { connectHarness, eventually, newId, silent, ticketPayload, type Harness } from "./support.js";

describe("durable consumers", () => {
  let h: Harness;
  const consumers: RunningConsumer[] = [];
  beforeAll(async () => {
    h = await connectHarness();
  });
  afterAll(async () => {
    for (const consumer of consumers) await consumer.stop();
    await h.close();
  });

  it("keeps a message while its slow handler works, and hands over one whose process stopped answering", async () => {
    const slow = newId();
    const abandoned = newId();
    const durable = `ackwait-${slow.slice(0, 8)}`;
    const ackWaitMs = 1_000;
    const deliveries: { orderId: string; count: number }[] = [];
    let hang = true;
    let slowDone = false;
    // The first instance, on a connection of its own, never settles the abandoned event; closing
    // its connection then silences it the way a process killed mid-handler goes silent.
    const dying = await connect({ servers: infra().natsUrl });
    const first = await startConsumer({
      nc: dying,
      durable,
      filterSubject: "ticketing.expiration.due",
      logger: silent,
      ackWaitMs,
      handlers: {
        "ticketing.expiration.due": async (event) => {
          deliveries.push({ orderId: event.data.orderId, count: 1 });
          if (event.data.orderId === abandoned && hang) return new Promise<void>(() => undefined);
          // Longer than the ack wait: only its progress reports keep the message from going out again.
          await new Promise((resolve) => setTimeout(resolve, ackWaitMs * 2.5));
          slowDone = true;
        },
      },
    });
    await h.publisher.publish("ticketing.expiration.due", { orderId: slow }, { aggregateId: slow });
    await eventually(
      () => slowDone,
      (done) => done,
    );
    // Acked after 2.5 ack waits, yet delivered once.
    await new Promise((resolve) => setTimeout(resolve, ackWaitMs * 1.5));
    expect(deliveries.filter((d) => d.orderId === slow)).toHaveLength(1);
    await h.publisher.publish("ticketing.expiration.due", { orderId: abandoned }, { aggregateId: abandoned });
    await eventually(
      () => deliveries.filter((d) => d.orderId === abandoned).length,
      (n) => n >= 1,
    );
    await dying.close();
    void first.stop();
    hang = false;
    const started = Date.now();
    consumers.push(
      await startConsumer({
        nc: h.nc,
        durable,
        filterSubject: "ticketing.expiration.due",
        logger: silent,
        ackWaitMs,
        handlers: {
          "ticketing.expiration.due": (event) => {
            deliveries.push({ orderId: event.data.orderId, count: 2 });
            return Promise.resolve();
          },
        },
      }),
    );
    await eventually(
      () => deliveries.filter((d) => d.orderId === abandoned && d.count === 2).length,
      (n) => n >= 1,
    );
    expect(Date.now() - started).toBeLessThan(ackWaitMs * 4);
  });

  it("redelivers a failing event with backoff, then dead-letters it after the maximum", async () => {
    const failing = newId();
    const fine = newId();
    const attempts: string[] = [];
    const handled: string[] = [];
    const durable = `dlq-${failing.slice(0, 8)}`;
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: "debug" },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    // What the consumer tells the process's metrics about the failing event and the fine one.
    const told: string[] = [];
    const backlogs = new Map<string, () => Promise<ConsumerBacklogReading>>();
    instrumentEvents({
      published: () => undefined,
      publishFailed: () => undefined,
      consumed: (consumer, subject, outcome) => {
        if (consumer === durable) told.push(`consumed ${outcome}`);
      },
      redelivered: (consumer) => {
        if (consumer === durable) told.push("redelivered");
      },
      deadLettered: (consumer, subject) => {
        if (consumer === durable) told.push(`dead-lettered ${subject}`);
      },
      consumerStarted: (consumer, read) => {
        backlogs.set(consumer, read);
        return () => backlogs.delete(consumer);
      },
      outboxStarted: () => () => undefined,
    });
    consumers.push(
      await startConsumer({
        nc: h.nc,
        durable,
        filterSubject: "ticketing.expiration.due",
        logger,
        maxDeliver: 3,
        backoffMs: [50],
        handlers: {
          "ticketing.expiration.due": (event) => {
            if (event.data.orderId === failing) {
              attempts.push(event.id);
              return Promise.reject(new Error("downstream is broken"));
            }
            if (event.data.orderId === fine) handled.push(event.id);
            return Promise.resolve();
          },
        },
      }),
    );
    const failed = await h.publisher.publish(
      "ticketing.expiration.due",
      { orderId: failing },
      { aggregateId: failing, meta: { requestId: "req-dlq-1" } },
    );
    await h.publisher.publish("ticketing.expiration.due", { orderId: fine }, { aggregateId: fine });

    await eventually(
      () => attempts.length,
      (n) => n >= 3,
    );
    expect(handled).toHaveLength(1);

    const jsm = await jetstreamManager(h.nc);
    const dead = await eventually(
      () =>
        jsm.streams
          .getMessage(DLQ_STREAM, { last_by_subj: `ticketing_dlq.${durable}.ticketing.expiration.due` })
          .catch(() => null),
      (message) => message !== null,
    );
    expect(dead?.json<Envelope>().data).toEqual({ orderId: failing });
    expect(dead?.header.get("Ticketing-Deliveries")).toBe("3");
    expect(dead?.header.get("Ticketing-Error")).toContain("downstream is broken");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(attempts).toHaveLength(3);
    // Each failure's line names the event and the request that caused it.
    const about = { consumer: durable, eventId: failed.id, requestId: "req-dlq-1" };
    expect(lines.filter((line) => line.msg === "event handler failed")).toEqual([
      expect.objectContaining({ ...about, attempt: 1 }),
      expect.objectContaining({ ...about, attempt: 2 }),
      expect.objectContaining({ ...about, attempt: 3 }),
    ]);
    expect(lines.filter((line) => line.msg === "event dead-lettered")).toEqual([
      expect.objectContaining({ ...about, reason: "downstream is broken" }),
    ]);

    instrumentEvents(undefined);
    // Three deliveries of the failing event, two of them redeliveries, the last dead-lettered; the
    // fine event (and any other expiration.due on the stream meanwhile) handled.
    expect(told.filter((line) => line !== "consumed ack").sort()).toEqual([
      "consumed dead_letter",
      "consumed retry",
      "consumed retry",
      "dead-lettered ticketing.expiration.due",
      "redelivered",
      "redelivered",
    ]);
    expect(told.filter((line) => line === "consumed ack").length).toBeGreaterThanOrEqual(1);
    // The consumer's lag, read from the server.
    const backlog = await backlogs.get(durable)?.();
    expect(backlog?.pending).toBeGreaterThanOrEqual(0);
    expect(backlog?.ackPending).toBeGreaterThanOrEqual(0);
  });

  it("makes a version-ordered replica wait for a missing version", async () => {
    const id = newId();
    const replica = new Map<string, { version: number; title: string }>();
    const applied: number[] = [];
    consumers.push(
      await startConsumer({
        nc: h.nc,
        durable: `replica-${id.slice(0, 8)}`,
        filterSubject: "ticketing.ticket.>",
        logger: silent,
        maxDeliver: 50,
        backoffMs: [50],
        handlers: {
          "ticketing.ticket.updated": (event) => {
            if (event.data.id !== id) return Promise.resolve();
            if (replicaStep(replica.get(id)?.version, event.version) === "apply") {
              replica.set(id, { version: event.version, title: event.data.title });
              applied.push(event.version);
            }
            return Promise.resolve();
          },
        },
      }),
    );
    for (const version of [2, 3, 1]) {
      await h.publisher.publish(
        "ticketing.ticket.updated",
        ticketPayload(id, version, { title: `v${version}` }),
        {
          aggregateId: id,
          version,
        },
      );
    }
    await eventually(
      () => applied.length,
      (n) => n === 3,
    );
    expect(applied).toEqual([1, 2, 3]);
    expect(replica.get(id)).toEqual({ version: 3, title: "v3" });
  });

  it("changes nothing when an event is delivered again", async () => {
    const orderId = newId();
    const effects: string[] = [];
    const applied = new AppliedEvents(h.db.collection(`applied_${orderId.slice(0, 8)}`));
    let firstTry = true;
    let calls = 0;
    consumers.push(
      await startConsumer({
        nc: h.nc,
        durable: `once-${orderId.slice(0, 8)}`,
        filterSubject: "ticketing.expiration.due",
        logger: silent,
        backoffMs: [50],
        handlers: {
          "ticketing.expiration.due": async (event) => {
            if (event.data.orderId !== orderId) return;
            calls++;
            await applied.once(event.id, () => {
              effects.push(event.id);
              return Promise.resolve();
            });
            // The ack is lost after the effect: the server delivers the event again.
            if (firstTry) {
              firstTry = false;
              throw new Error("ack lost");
            }
          },
        },
      }),
    );
    const sent = await h.publisher.publish("ticketing.expiration.due", { orderId }, { aggregateId: orderId });
    // The same event published again by a retrying relay is dropped by the server.
    await h.publisher.publishEnvelope({ ...sent });
    const js = jetstream(h.nc);
    const consumer = await js.consumers.get("TICKETING", `once-${orderId.slice(0, 8)}`);
    await eventually(
      () => consumer.info(),
      (info) => calls === 2 && info.num_pending === 0 && info.num_ack_pending === 0,
    );
    expect(calls).toBe(2);
    expect(effects).toEqual([sent.id]);
  });
});
