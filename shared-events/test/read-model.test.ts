// readModel(): projections loaded, then followed on the stream from the sequence read before the
// load; applied once each by version; ready only when caught up, and not while it lags.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { infra } from "@ticketing/testkit";
import {
  AggregateView,
  createPublisher,
  ensureStreams,
  readModel,
  type Envelope,
  type ProjectionDocument,
  type Publisher,
  type ReadModel,
} from "../src/index.js";
import {
  eventually,
  evolveTicket,
  silent,
  ticketPayload,
  type Ticket,
  type TicketSubject,
} from "./support.js";

/**
 * The store of record as the view sees it: projection documents by id. `down` makes it fail, as
 * a database that does not answer.
 */
class Store {
  readonly docs = new Map<string, Ticket>();
  down = false;
  reloads: string[] = [];

  async *load(): AsyncIterable<ProjectionDocument<Ticket>> {
    for (const [id, state] of this.docs) {
      // A cursor: each batch is a round trip.
      await sleep(0);
      yield { ...state, _id: id, _causes: ["an-order-event"] };
    }
  }

  reload(id: string): Promise<Ticket | null> {
    this.reloads.push(id);
    if (this.down) return Promise.reject(new Error("the store of record does not answer"));
    return Promise.resolve(this.docs.get(id) ?? null);
  }
}

function ticketsView(store: Store, evolved: Envelope<TicketSubject>[] = []) {
  return new AggregateView<Ticket, TicketSubject>({
    name: "tickets",
    subjects: ["ticketing.ticket.created", "ticketing.ticket.updated"],
    evolve: (state, event) => {
      evolved.push(event);
      return evolveTicket(state, event);
    },
    load: () => store.load(),
    reload: (id) => store.reload(id),
  });
}

const stateOf = (id: string, version: number, overrides: Partial<Ticket> = {}): Ticket => {
  const { id: _id, ...state } = ticketPayload(id, version, overrides);
  return state;
};

describe("readModel", () => {
  let nc: NatsConnection;
  let publisher: Publisher;
  const models: ReadModel[] = [];

  /** Publishes a ticket's event as its log's relay would. */
  const publish = (id: string, version: number, overrides: Partial<Ticket> = {}) =>
    publisher.publish(
      version === 1 ? "ticketing.ticket.created" : "ticketing.ticket.updated",
      ticketPayload(id, version, overrides),
      { aggregateId: id, version },
    );

  beforeAll(async () => {
    nc = await connect({ servers: infra().natsUrl });
    await ensureStreams(nc);
    publisher = createPublisher(nc);
  });
  afterEach(async () => {
    for (const model of models.splice(0)) await model.stop();
  });
  afterAll(() => nc.close());

  it("loads, then applies what the stream got during the load, each version once", async () => {
    const store = new Store();
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const ids: string[] = [a, b, c];
    // Both already on the stream; the projections (what the load reads) reflect them.
    await publish(a, 1);
    await publish(b, 1);
    store.docs.set(a, stateOf(a, 1));
    store.docs.set(b, stateOf(b, 1));
    const evolved: Envelope<TicketSubject>[] = [];
    const view = ticketsView(store, evolved);
    // Changes land while the projections are being read: one the load sees (b at 2, also on the
    // stream after the start's sequence), two it does not (a at 2, c at 1).
    const load = store.load.bind(store);
    store.load = async function* () {
      await publish(b, 2, { title: "Seen twice" });
      store.docs.set(b, stateOf(b, 2, { title: "Seen twice" }));
      yield* load();
      await publish(a, 2, { price: { amount: 4_000, currency: "EUR" } });
      await publish(c, 1);
    };
    const model = readModel({ nc, logger: silent, views: [view] });
    models.push(model);

    await model.start();
    expect(await model.ready()).toBe(true);
    expect(view.get(a)).toEqual(stateOf(a, 2, { price: { amount: 4_000, currency: "EUR" } }));
    expect(view.get(b)).toEqual(stateOf(b, 2, { title: "Seen twice" }));
    expect(view.get(c)).toEqual(stateOf(c, 1));
    // b's second version came by the load and again by the stream: folded only from the stream's
    // copy of a's, never b's; the load's causes are not kept.
    const mine = evolved.filter((event) => ids.includes(event.aggregateId));
    expect(mine.map((event) => [event.aggregateId, event.version])).toEqual([
      [a, 2],
      [c, 1],
    ]);
    expect(view.get(b)).not.toHaveProperty("_causes");

    // A redelivery and an older state change nothing; a command's newer state is held at once.
    await publish(a, 2, { title: "A stale copy" });
    expect(view.put(a, stateOf(a, 1, { title: "Older" }))).toBe(false);
    expect(view.put(c, stateOf(c, 2, { status: "RESERVED", orderId: "order-1" }))).toBe(true);
    await publish(c, 2, { status: "RESERVED", orderId: "order-1" });
    const last = await publish(c, 3, { status: "SOLD", orderId: "order-1" });
    await eventually(
      () => model.position(),
      (position) => position >= last.seq,
    );
    expect(view.get(a)?.title).toBe("Front row");
    expect(view.get(c)).toEqual(stateOf(c, 3, { status: "SOLD", orderId: "order-1" }));
  });

  it("reloads an aggregate from the store of record when an event is ahead of the held version", async () => {
    const store = new Store();
    const id = randomUUID();
    await publish(id, 1);
    store.docs.set(id, stateOf(id, 1));
    const view = ticketsView(store);
    const model = readModel({ nc, logger: silent, views: [view] });
    models.push(model);
    await model.start();

    // Version 2 reached the log and the projection, but its event is not on the stream (a relay
    // that has not run yet); version 3 is.
    store.docs.set(id, stateOf(id, 3, { section: "B", title: "Moved" }));
    const last = await publish(id, 3, { section: "B", title: "Moved" });
    await eventually(
      () => model.position(),
      (position) => position >= last.seq,
    );
    expect(store.reloads).toContain(id);
    expect(view.get(id)).toEqual(stateOf(id, 3, { section: "B", title: "Moved" }));
  });

  it("reports not ready while the follower stays behind the stream, and ready once it has caught up", async () => {
    const store = new Store();
    const id = randomUUID();
    await publish(id, 1);
    store.docs.set(id, stateOf(id, 1));
    const view = ticketsView(store);
    const maxLagMs = 500;
    const model = readModel({ nc, logger: silent, views: [view], maxLagMs });
    models.push(model);
    await model.start();
    expect(await model.ready()).toBe(true);

    // The follower meets an event it can only apply with the store's help while the store does
    // not answer: it waits there, and the events behind it pile up.
    store.down = true;
    await publish(id, 3, { title: "Needs a reload" });
    const other = randomUUID();
    await publish(other, 1);
    const last = await publish(other, 2, { title: "Behind the stuck one" });
    expect(await model.ready()).toBe(true);
    await sleep(maxLagMs + 100);
    expect(model.position()).toBeLessThan(last.seq);
    expect(await model.ready()).toBe(false);

    store.docs.set(id, stateOf(id, 3, { title: "Needs a reload" }));
    store.down = false;
    await eventually(
      () => model.position(),
      (position) => position >= last.seq,
    );
    expect(await model.ready()).toBe(true);
    expect(view.get(id)?.title).toBe("Needs a reload");
    expect(view.get(other)).toEqual(stateOf(other, 2, { title: "Behind the stuck one" }));
  });

  it("is not ready before it has started, nor once it has stopped following", async () => {
    const view = ticketsView(new Store());
    const model = readModel({ nc, logger: silent, views: [view] });
    expect(await model.ready()).toBe(false);
    await model.start();
    expect(await model.ready()).toBe(true);
    await model.stop();
    expect(await model.ready()).toBe(false);
  });
});
