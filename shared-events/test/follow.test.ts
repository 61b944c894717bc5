// follow(): a process's own view of some subjects, from a chosen place, across NATS restarts.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { infra, OwnServer } from "@ticketing/testkit";
import {
  createPublisher,
  ensureStreams,
  filterFor,
  follow,
  type Envelope,
  type Follower,
  type Publisher,
  type Subject,
  STREAM,
} from "../src/index.js";
import { eventually, silent } from "./support.js";

/** What a follower saw: the stream sequences it was handed and the events. */
function recorder<S extends Subject>() {
  const seen: { seq: number; event: Envelope<S> }[] = [];
  return {
    seen,
    seqs: () => seen.map((entry) => entry.seq),
    handler: (event: Envelope<S>, seq: number) => {
      seen.push({ seq, event });
    },
  };
}

const revoke = (publisher: Publisher, sessionId = randomUUID()) =>
  publisher.publish("ticketing.session.revoked", { sessionId, userId: "user-1" }, { aggregateId: sessionId });

const revokeKey = (publisher: Publisher, id = randomUUID()) =>
  publisher.publish("ticketing.apikey.revoked", { id, revokedBy: "ops-1" }, { aggregateId: id });

describe("filterFor", () => {
  it("asks the server for one subject, or the narrowest wildcard over several", () => {
    expect(filterFor(["ticketing.session.revoked"])).toBe("ticketing.session.revoked");
    expect(filterFor(["ticketing.ticket.created", "ticketing.ticket.updated"])).toBe("ticketing.ticket.*");
    expect(filterFor(["ticketing.ticket.created", "ticketing.order.created"])).toBe("ticketing.>");
    expect(filterFor(["ticketing.order.created", "ticketing.order.created"])).toBe("ticketing.order.created");
  });
});

describe("follow", () => {
  let nc: NatsConnection;
  let publisher: Publisher;
  const followers: Follower[] = [];
  beforeAll(async () => {
    nc = await connect({ servers: infra().natsUrl });
    await ensureStreams(nc);
    publisher = createPublisher(nc);
  });
  afterEach(async () => {
    for (const follower of followers.splice(0)) await follower.stop();
  });
  afterAll(() => nc.close());

  it("hands over each event of its subjects once, typed, in stream order, from a sequence on", async () => {
    const before = await revoke(publisher);
    const ticket = recorder<"ticketing.ticket.created" | "ticketing.ticket.updated">();
    const sessions = recorder<"ticketing.session.revoked">();
    followers.push(
      await follow(
        nc,
        ["ticketing.ticket.created", "ticketing.ticket.updated"],
        { from: { after: before.seq }, logger: silent },
        ticket.handler,
      ),
      await follow(
        nc,
        "ticketing.session.revoked",
        { from: { after: before.seq - 1 }, logger: silent },
        sessions.handler,
      ),
    );
    const ticketId = randomUUID();
    const state = {
      id: ticketId,
      eventId: "event-1",
      sellerId: "seller-1",
      title: "Seat",
      section: null,
      price: { amount: 1_000, currency: "EUR" },
      status: "AVAILABLE" as const,
      orderId: null,
    };
    const created = await publisher.publish(
      "ticketing.ticket.created",
      { ...state, version: 1 },
      { aggregateId: ticketId, version: 1 },
    );
    // Of the same aggregate but not asked for: the wildcard brings it, the follower leaves it out.
    const rejected = await publisher.publish(
      "ticketing.ticket.reservation_rejected",
      { ticketId, orderId: "order-1", reason: "WITHDRAWN" },
      { aggregateId: ticketId },
    );
    const updated = await publisher.publish(
      "ticketing.ticket.updated",
      { ...state, price: { amount: 1_500, currency: "EUR" }, version: 2 },
      { aggregateId: ticketId, version: 2 },
    );
    const after = await revoke(publisher);

    const mine = () => ticket.seen.filter((entry) => entry.event.data.id === ticketId);
    await eventually(mine, (entries) => entries.length === 2);
    expect(mine().map((entry) => [entry.seq, entry.event.subject, entry.event.data.price.amount])).toEqual([
      [created.seq, "ticketing.ticket.created", 1_000],
      [updated.seq, "ticketing.ticket.updated", 1_500],
    ]);
    expect(ticket.seqs()).not.toContain(rejected.seq);
    await eventually(sessions.seqs, (seqs) => seqs.includes(after.seq));
    expect(sessions.seqs()[0]).toBe(before.seq);
    expect(sessions.seen[0]?.event.data.sessionId).toBe(before.data.sessionId);
    expect(sessions.seqs()).toEqual([...sessions.seqs()].sort((a, b) => a - b));
    expect(new Set(sessions.seqs()).size).toBe(sessions.seqs().length);
  });

  it("starts after the stream's end with 'new', and at a time with a Date", async () => {
    const old = await revoke(publisher);
    await sleep(50);
    const since = new Date();
    await sleep(50);
    const recent = await revoke(publisher);
    const fresh = recorder<"ticketing.session.revoked">();
    const timed = recorder<"ticketing.session.revoked">();
    followers.push(
      await follow(nc, "ticketing.session.revoked", { from: "new", logger: silent }, fresh.handler),
      await follow(nc, "ticketing.session.revoked", { from: since, logger: silent }, timed.handler),
    );
    const next = await revoke(publisher);
    await eventually(fresh.seqs, (seqs) => seqs.includes(next.seq));
    await eventually(timed.seqs, (seqs) => seqs.includes(next.seq));
    expect(fresh.seqs()).not.toContain(recent.seq);
    expect(fresh.seqs().every((seq) => seq > recent.seq)).toBe(true);
    expect(timed.seqs()[0]).toBe(recent.seq);
    expect(timed.seqs()).not.toContain(old.seq);
  });

  it("passes over a message that is not an event, and an event its handler fails on", async () => {
    const start = await revoke(publisher);
    const handled: number[] = [];
    const follower = await follow(
      nc,
      "ticketing.session.revoked",
      { from: { after: start.seq }, logger: silent },
      (event, seq) => {
        if (event.data.userId === "fails") throw new Error("handler bug");
        handled.push(seq);
      },
    );
    followers.push(follower);
    const garbage = await jetstream(nc).publish(
      "ticketing.session.revoked",
      JSON.stringify({ not: "an event" }),
      {
        msgID: randomUUID(),
      },
    );
    const failing = await publisher.publish(
      "ticketing.session.revoked",
      { sessionId: "s", userId: "fails" },
      { aggregateId: "s" },
    );
    const fine = await revoke(publisher);
    await eventually(
      () => handled,
      (seqs) => seqs.includes(fine.seq),
    );
    expect(handled).not.toContain(garbage.seq);
    expect(handled).not.toContain(failing.seq);
    expect(follower.position()).toBeGreaterThanOrEqual(fine.seq);
  });

  it("stops: no event after stop(), and `ended` settles with null", async () => {
    const seen = recorder<"ticketing.apikey.revoked">();
    const follower = await follow(
      nc,
      "ticketing.apikey.revoked",
      { from: "new", logger: silent },
      seen.handler,
    );
    const first = await revokeKey(publisher);
    await eventually(seen.seqs, (seqs) => seqs.includes(first.seq));
    await follower.stop();
    await expect(follower.ended).resolves.toBeNull();
    await revokeKey(publisher);
    await sleep(300);
    expect(seen.seqs()).toEqual([first.seq]);
  });

  it("ends with the reason when its connection closes", async () => {
    const own = await connect({ servers: infra().natsUrl });
    const follower = await follow(own, "ticketing.apikey.revoked", { from: "new", logger: silent }, () => {});
    await own.close();
    const reason = await follower.ended;
    expect(reason).toBeInstanceOf(Error);
  });
});

describe("follow across a NATS restart", () => {
  let server: OwnServer;
  let nc: NatsConnection;
  let publisher: Publisher;
  beforeAll(async () => {
    server = await OwnServer.start("nats");
    nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    await ensureStreams(nc);
    publisher = createPublisher(nc, { timeoutMs: 2_000 });
  });
  afterAll(async () => {
    await nc?.close();
    await server?.remove();
  });

  /** Publishes as an outbox relay would: again until the server takes it. */
  async function publishSoon<T>(send: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await send();
      } catch {
        await sleep(100);
      }
    }
  }

  /** Kills the server, waits, starts it again; resolves once this test's connection is back. */
  async function crash(downMs: number): Promise<number> {
    await server.kill();
    const back = (async () => {
      for await (const status of nc.status()) if (status.type === "reconnect") return;
    })();
    await sleep(downMs);
    await server.restart();
    const restartedAt = Date.now();
    await back;
    return restartedAt;
  }

  it("resumes after its last event: none lost, none twice, none from before its start", async () => {
    const old = [await revoke(publisher), await revoke(publisher), await revokeKey(publisher)];
    const all = recorder<"ticketing.session.revoked">();
    const fresh = recorder<"ticketing.session.revoked">();
    // Idle until after the restart: it has handled nothing when its consumer is lost.
    const idle = recorder<"ticketing.apikey.revoked">();
    const followers = [
      await follow(nc, "ticketing.session.revoked", { from: "all", logger: silent }, all.handler),
      await follow(nc, "ticketing.session.revoked", { from: "new", logger: silent }, fresh.handler),
      await follow(nc, "ticketing.apikey.revoked", { from: "new", logger: silent }, idle.handler),
    ];
    const beforeKill: number[] = [];
    for (let i = 0; i < 5; i++) beforeKill.push((await revoke(publisher)).seq);
    await eventually(fresh.seqs, (seqs) => seqs.length === 5);

    const restartedAt = await crash(3_000);
    // More than the client library pulls again for a consumer it recreates by itself.
    const afterRestart: number[] = [];
    for (let i = 0; i < 12; i++) afterRestart.push((await publishSoon(() => revoke(publisher))).seq);
    const keys = [(await revokeKey(publisher)).seq, (await revokeKey(publisher)).seq];
    await eventually(fresh.seqs, (seqs) => seqs.length >= 17, 30_000);
    await eventually(idle.seqs, (seqs) => seqs.length >= 2, 30_000);
    await eventually(all.seqs, (seqs) => seqs.length >= 19, 30_000);
    const caughtUpMs = Date.now() - restartedAt;
    await sleep(500); // anything repeated would have come by now

    expect(all.seqs()).toEqual([old[0]!.seq, old[1]!.seq, ...beforeKill, ...afterRestart]);
    expect(fresh.seqs()).toEqual([...beforeKill, ...afterRestart]);
    expect(idle.seqs()).toEqual(keys);
    // Not silent for a while after the restart: every event is handled as soon as it is stored.
    expect(caughtUpMs).toBeLessThan(3_000);
    for (const follower of followers) await follower.stop();
  });

  it("keeps following through restarts in a row, with events published in between", async () => {
    const seen = recorder<"ticketing.session.revoked">();
    const follower = await follow(
      nc,
      "ticketing.session.revoked",
      { from: "new", logger: silent },
      seen.handler,
    );
    const published: number[] = [];
    for (let round = 0; round < 3; round++) {
      published.push((await publishSoon(() => revoke(publisher))).seq);
      await crash(500 + round * 1_000);
      published.push((await publishSoon(() => revoke(publisher))).seq);
      await eventually(seen.seqs, (seqs) => seqs.length === published.length, 5_000);
    }
    await sleep(500);
    expect(seen.seqs()).toEqual(published);
    await follower.stop();
  });

  it("replaces a consumer deleted under it while connected", async () => {
    const seen = recorder<"ticketing.session.revoked">();
    const follower = await follow(
      nc,
      "ticketing.session.revoked",
      { from: "new", logger: silent },
      seen.handler,
    );
    const published = [(await revoke(publisher)).seq];
    await eventually(seen.seqs, (seqs) => seqs.length === 1);
    const jsm = await jetstreamManager(nc);
    for await (const consumer of jsm.consumers.list(STREAM)) {
      if (consumer.config.filter_subject === "ticketing.session.revoked") {
        await jsm.consumers.delete(STREAM, consumer.name);
      }
    }
    const deletedAt = Date.now();
    for (let i = 0; i < 12; i++) published.push((await revoke(publisher)).seq);
    await eventually(seen.seqs, (seqs) => seqs.length >= published.length, 20_000);
    // The server tells pending pulls their consumer is gone: no wait for missed heartbeats.
    expect(Date.now() - deletedAt).toBeLessThan(3_000);
    await sleep(500);
    expect(seen.seqs()).toEqual(published);
    await follower.stop();
  });
});
