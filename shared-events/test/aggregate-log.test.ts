import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { mongoDatabaseUrl, OwnServer } from "@ticketing/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConcurrencyError,
  createPublisher,
  ensureStreams,
  instrumentEvents,
  STREAM,
  type LogDocument,
  type OutboxReading,
} from "../src/index.js";
import {
  connectHarness,
  eventually,
  newId,
  openDatabase,
  ticketLog,
  ticketPayload,
  type Harness,
} from "./support.js";

describe("the aggregate log", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await connectHarness();
  });
  afterAll(() => h.close());

  // Fifty writers racing retry each other many times: generous time for a loaded machine.
  it(
    "loses no update and forks no version with 50 concurrent writers on one aggregate",
    { timeout: 90_000 },
    async () => {
      const log = ticketLog(h);
      await log.start();
      const id = newId();
      await log.append(id, 0, { subject: "ticketing.ticket.created", data: ticketPayload(id, 1) });

      const writers = Array.from({ length: 50 }, () =>
        log.execute(id, (state) => {
          if (!state) throw new Error("missing ticket");
          const amount = state.price.amount + 1;
          return {
            subject: "ticketing.ticket.updated",
            data: ticketPayload(id, state.version + 1, { price: { amount, currency: "EUR" } }),
          };
        }),
      );
      const results = await Promise.all(writers);
      expect(results.every((result) => result.outcome === "appended")).toBe(true);

      const history = await log.history(id);
      expect(history.map((entry) => entry.version)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
      // Every writer saw the one before it: the prices climb by exactly one per version.
      expect(history.map((entry) => entry.data.price.amount)).toEqual(
        Array.from({ length: 51 }, (_, i) => 5_000 + i),
      );
      const state = await log.load(id);
      expect(state).toMatchObject({ version: 51, price: { amount: 5_050 } });

      const projection = await eventually(
        () => h.db.collection("tickets").findOne({ _id: id as never }),
        (doc) => doc?.version === 51,
      );
      expect(projection).toMatchObject({ version: 51, price: { amount: 5_050, currency: "EUR" } });
      await log.stop();
    },
  );

  // FerretDB 1.24 stops answering on an update command of 100 statements or more (batcher.ts).
  it(
    "projects and marks 300 aggregates created at once, in batches the database can take",
    { timeout: 60_000 },
    async () => {
      const log = ticketLog(h);
      await log.start();
      const ids = Array.from({ length: 300 }, newId);
      await Promise.all(
        ids.map((id) =>
          log.execute(id, () => ({ subject: "ticketing.ticket.created", data: ticketPayload(id, 1) }), {
            creates: true,
          }),
        ),
      );
      const projected = await eventually(
        () => h.db.collection("tickets").countDocuments({ _id: { $in: ids as never[] }, version: 1 }),
        (count) => count === ids.length,
        20_000,
      );
      expect(projected).toBe(ids.length);
      const marked = await eventually(
        () =>
          h.db
            .collection("ticket_events")
            .countDocuments({ aggregateId: { $in: ids }, projected: true, published: true }),
        (count) => count === ids.length,
        20_000,
      );
      expect(marked).toBe(ids.length);
      await log.stop();
    },
  );

  it("publishes every appended event exactly once, in version order, with its id as message id", async () => {
    const log = ticketLog(h);
    await log.start();
    const id = newId();
    await log.append(id, 0, { subject: "ticketing.ticket.created", data: ticketPayload(id, 1) });
    for (let version = 2; version <= 5; version++) {
      await log.append(id, version - 1, {
        subject: "ticketing.ticket.updated",
        data: ticketPayload(id, version, { title: `v${version}` }),
      });
    }
    const history = await eventually(
      () => log.history(id),
      (entries) => entries.every((entry) => entry.published),
    );
    expect(history.every((entry) => entry.published)).toBe(true);

    await log.relay();
    const jsm = await jetstreamManager(h.nc);
    const seen: { id: string; version: number }[] = [];
    const last = (await jsm.streams.info(STREAM)).state.last_seq;
    for (let seq = 1; seq <= last; seq++) {
      const message = await jsm.streams.getMessage(STREAM, { seq }).catch(() => null);
      const envelope = message?.json<{ id: string; aggregateId: string; version: number }>();
      if (envelope?.aggregateId === id) seen.push({ id: envelope.id, version: envelope.version });
    }
    expect(seen.map((event) => event.version)).toEqual([1, 2, 3, 4, 5]);
    expect(seen.map((event) => event.id)).toEqual(history.map((entry) => entry.eventId));
    await log.stop();
  });

  it("refuses a change against a stale expected version", async () => {
    const log = ticketLog(h);
    const id = newId();
    await log.append(id, 0, { subject: "ticketing.ticket.created", data: ticketPayload(id, 1) });
    await log.execute(id, (s) => ({
      subject: "ticketing.ticket.updated",
      data: ticketPayload(id, s!.version + 1),
    }));

    await expect(
      log.execute(
        id,
        (s) => ({ subject: "ticketing.ticket.updated", data: ticketPayload(id, s!.version + 1) }),
        {
          expectedVersion: 1,
        },
      ),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(
      log.append(id, 1, { subject: "ticketing.ticket.updated", data: ticketPayload(id, 2) }),
    ).rejects.toBeInstanceOf(ConcurrencyError);
    expect((await log.history(id)).length).toBe(2);
  });

  it("applies the effect of one event once, however often it is delivered", async () => {
    const log = ticketLog(h);
    const id = newId();
    await log.append(id, 0, { subject: "ticketing.ticket.created", data: ticketPayload(id, 1) });
    const orderCreated = newId();
    const reserve = () =>
      log.execute(
        id,
        (s) =>
          s?.status === "AVAILABLE"
            ? {
                subject: "ticketing.ticket.updated",
                data: ticketPayload(id, s.version + 1, { status: "RESERVED", orderId: "order-1" }),
              }
            : null,
        { causationId: orderCreated },
      );
    const outcomes = await Promise.all([reserve(), reserve(), reserve()]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(["appended", "duplicate", "duplicate"]);
    expect((await reserve()).outcome).toBe("duplicate");
    expect((await log.history(id)).length).toBe(2);
  });
});

describe("the aggregate log across a NATS restart", () => {
  let nats: OwnServer;
  let h: Harness;
  beforeAll(async () => {
    nats = await OwnServer.start("nats");
    const { db, client } = await openDatabase(mongoDatabaseUrl("events-restart"));
    const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    await ensureStreams(nc);
    h = {
      db,
      nc,
      publisher: createPublisher(nc, { timeoutMs: 1_000 }),
      async close() {
        await nc.close();
        await client.close();
      },
    };
  });
  afterAll(async () => {
    await h.close();
    await nats.remove();
  });

  it("publishes what was appended during the outage as soon as NATS is back, not a sweep later", async () => {
    // A sweep interval far longer than the test: only the reconnect can publish the event.
    const log = ticketLog(h, { intervalMs: 600_000 });
    // The outbox as the process's metrics read it.
    const outboxes = new Map<string, () => OutboxReading>();
    instrumentEvents({
      published: () => undefined,
      publishFailed: () => undefined,
      consumed: () => undefined,
      redelivered: () => undefined,
      deadLettered: () => undefined,
      consumerStarted: () => () => undefined,
      outboxStarted: (name, read) => {
        outboxes.set(name, read);
        return () => outboxes.delete(name);
      },
    });
    await log.start();
    const outbox = [...outboxes.values()][0]!;
    expect(outbox()).toEqual({ pending: 0, oldestAt: undefined });
    // Made before the outage: a request sent in the moment the client reconnects can go unanswered.
    const jsm = await jetstreamManager(h.nc, { timeout: 1_000 });
    try {
      await nats.kill();
      const id = newId();
      const appended = Date.now();
      await log.append(id, 0, { subject: "ticketing.ticket.created", data: ticketPayload(id, 1) });
      // Committed, not on the stream: one entry waits in the outbox, logged just now.
      expect(outbox().pending).toBe(1);
      expect(outbox().oldestAt).toBeGreaterThanOrEqual(appended - 1_000);
      await nats.restart();
      const back = Date.now();
      const stored = await eventually(
        () =>
          jsm.streams.getMessage(STREAM, { last_by_subj: "ticketing.ticket.created" }).then(
            (message) => message?.json<{ aggregateId: string }>().aggregateId ?? null,
            () => null,
          ),
        (aggregateId) => aggregateId === id,
        8_000,
      );
      expect(stored).toBe(id);
      expect(Date.now() - back).toBeLessThan(5_000);
      expect(
        await eventually(
          () => outbox().pending,
          (pending) => pending === 0,
        ),
      ).toBe(0);
      expect(outbox().oldestAt).toBeUndefined();
    } finally {
      await log.stop();
      instrumentEvents(undefined);
    }
    expect(outboxes.size).toBe(0);
  });
});

describe("the aggregate log's sweeps", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await connectHarness();
  });
  afterAll(() => h.close());

  it("scan the log only when this process left something behind, or on the full-sweep timer", async () => {
    const real = h.db.collection<LogDocument>("ticket_events");
    const scans: unknown[] = [];
    // The real collection, with each query that is not by _id alone counted: those are the scans.
    const log = new Proxy(real, {
      get(target, key, receiver) {
        const value: unknown = Reflect.get(target, key, receiver);
        if (key !== "find" || typeof value !== "function") return value;
        return (filter: Record<string, unknown>, ...rest: unknown[]) => {
          if (Object.keys(filter).some((field) => field !== "_id")) scans.push(filter);
          return (value as (...args: unknown[]) => unknown).call(target, filter, ...rest);
        };
      },
    });
    const ticketsLog = ticketLog(h, { log, intervalMs: 50, fullSweepIntervalMs: 600_000 });
    await ticketsLog.start();
    try {
      const afterStart = scans.length;
      expect(afterStart).toBeGreaterThan(0);
      const id = newId();
      await ticketsLog.append(id, 0, { subject: "ticketing.ticket.created", data: ticketPayload(id, 1) });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(scans.length).toBe(afterStart);
    } finally {
      await ticketsLog.stop();
    }
  });
});
