// The catalog read model: the browse queries from memory, with the database's answers; replicas
// that start late, mutate, and follow each other.
import { randomUUID } from "node:crypto";
import type { TestStream } from "@ticketing/shared-events/testing";
import type { Payload } from "@ticketing/shared-events";
import { connectMongo } from "@ticketing/shared-runtime";
import { eventually, infra, uniqueName } from "@ticketing/testkit";
import type { Connection } from "mongoose";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openModels } from "../src/data/models.js";
import { catalogReads, type CatalogReads, type EventQuery } from "../src/data/reads.js";
import type { EventState } from "../src/domain/catalog.js";
import { priceOrderKey } from "../src/domain/search.js";
import type { TicketState } from "../src/domain/tickets.js";
import {
  createEvent,
  dataOf,
  EVENT,
  EVENTS,
  FakeAuth,
  listTicket,
  openOrdersStream,
  startTickets,
  UPDATE_TICKET,
  WITHDRAW_TICKET,
  type EventNode,
  type RunningTickets,
  type TicketNode,
} from "./support.js";

const database = uniqueName("tickets");
let auth: FakeAuth;
let first: RunningTickets;
let ops: string;
let stream: TestStream;
let connection: Connection;
let stored: CatalogReads;
beforeAll(async () => {
  auth = await FakeAuth.start();
  first = await startTickets(auth, {}, { database });
  ops = auth.token(undefined, ["USER", "OPS"]);
  stream = await openOrdersStream();
  connection = await connectMongo(infra().mongoUrl, database, pino({ level: "silent" }));
  // The database's answers to the same queries, through the models the service writes with.
  stored = catalogReads(await openModels(connection));
});
afterAll(async () => {
  await connection.close();
  await stream.close();
  await first.close();
  await auth.close();
});

const memoryOf = (replica: RunningTickets) => replica.service.readModel.reads;

const readyz = async (replica: RunningTickets) => {
  const response = await fetch(`${replica.origin}/readyz`);
  return { status: response.status, body: (await response.json()) as { checks: Record<string, string> } };
};

const orderOf = (ticket: TicketNode, sellerId: string): Payload<"ticketing.order.created"> => ({
  id: randomUUID(),
  ticketId: ticket.id,
  buyerId: randomUUID(),
  sellerId,
  total: ticket.price,
  createdAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + 60_000).toISOString(),
});

/** Every page of a query, `size` at a time, each page's cursor taken from the last row. */
async function allPages<T>(
  page: (after: { key: string; id: string } | null) => Promise<T[]>,
  keyOf: (row: T) => { key: string; id: string },
): Promise<T[][]> {
  const pages: T[][] = [];
  let after: { key: string; id: string } | null = null;
  for (;;) {
    const rows = await page(after);
    pages.push(rows);
    const last = rows.at(-1);
    if (!last) return pages;
    after = keyOf(last);
  }
}

describe("the catalog read model", () => {
  it("answers every browse query, page and filter as the database does", async () => {
    const city = `Readton-${randomUUID().slice(0, 8)}`;
    const otherCity = `${city}-north`;
    const at = (day: number, hour = 20) => new Date(Date.UTC(2042, 2, day, hour)).toISOString();
    const specs = [
      { city, category: "gala", startsAt: at(1), name: "Moonlight Gala" },
      { city, category: "gala", startsAt: at(1), name: "Second gala, same start" },
      { city: city.toUpperCase(), category: "jazz", startsAt: at(2), name: "Late jazz" },
      { city, category: null, startsAt: at(3), name: "No category", venue: "The MOON hall" },
      { city, category: "Gala", startsAt: at(4), name: "Gala in capitals" },
      { city, category: "jazz", startsAt: at(4, 22), name: "Les Étoiles", venue: "Le Zénith" },
      { city: otherCity, category: "gala", startsAt: at(2), name: "Elsewhere" },
      { city: otherCity, category: "jazz", startsAt: at(5), name: "Elsewhere, later" },
    ];
    const events: EventNode[] = [];
    for (const spec of specs) events.push(await createEvent(first, ops, spec));

    const sellers: string[] = [randomUUID(), randomUUID()];
    const tokens = sellers.map((id) => auth.token(id));
    const prices = [
      { amount: 5_000, currency: "EUR" },
      { amount: 2_500, currency: "EUR" },
      { amount: 2_500, currency: "GBP" },
      { amount: 9_900, currency: "EUR" },
    ];
    const listed: { ticket: TicketNode; seller: string }[] = [];
    for (const [index, event] of events.entries()) {
      for (let n = 0; n < 4 + (index % 3); n++) {
        const token = tokens[n % 2] ?? "";
        const ticket = await listTicket(first, token, event.id, {
          title: `Seat ${n}`,
          section: n % 3 === 0 ? null : `Block ${n}`,
          price: prices[(index + n) % prices.length],
        });
        listed.push({ ticket, seller: sellers[n % 2] ?? "" });
      }
    }
    // Withdrawn, repriced (the cheapest among them), reserved and sold ones.
    const changed = async (query: string, token: string, variables: Record<string, unknown>) =>
      dataOf(await first.graphql(query, { token, variables }));
    for (const [index, { ticket, seller }] of listed.entries()) {
      const token = auth.token(seller);
      if (index % 5 === 0) await changed(WITHDRAW_TICKET, token, { id: ticket.id });
      else if (index % 5 === 1) {
        await changed(UPDATE_TICKET, token, {
          id: ticket.id,
          input: { price: { amount: 100, currency: "EUR" } },
        });
      } else if (index % 5 === 2) {
        const order = orderOf(ticket, seller);
        await stream.publish("ticketing.order.created", order);
        if (index % 2 === 0) {
          await stream.publish(
            "ticketing.order.completed",
            { id: order.id, ticketId: ticket.id, paymentId: randomUUID() },
            { aggregateId: order.id, version: 3 },
          );
        }
      }
    }
    const settled = await eventually(
      () => Promise.all(listed.map(({ ticket }) => memoryOf(first).ticket(ticket.id))),
      (states) => states.every((state, index) => index % 5 !== 2 || state?.status !== "AVAILABLE"),
    );
    expect(settled.filter((state) => state?.status === "SOLD").length).toBeGreaterThan(0);
    expect(settled.filter((state) => state?.status === "RESERVED").length).toBeGreaterThan(0);

    const memory = memoryOf(first);
    const cityKey = city.toLowerCase();
    const eventQueries: Omit<EventQuery, "after" | "limit">[] = [
      { search: city },
      { search: city.slice(0, 10).toUpperCase() },
      { cityKey },
      { cityKey, categoryKey: "gala" },
      { cityKey: otherCity.toLowerCase(), categoryKey: "jazz" },
      { cityKey, search: "moon" },
      { search: city, categoryKey: "gala" },
      { cityKey, startsAfter: at(1), startsBefore: at(4) },
      { search: city, startsAfter: at(1, 19) },
      { search: city, startsBefore: at(2) },
      { cityKey: "no-such-city" },
      { search: "etoiles" },
      { cityKey, search: "ZENITH" },
      { cityKey, withTickets: true },
    ];
    for (const query of eventQueries) {
      for (const limit of [1, 2, 3, 100]) {
        const keyOf = (event: EventState) => ({ key: event.startsAt, id: event.id });
        const fromMemory = await allPages((after) => memory.findEvents({ ...query, after, limit }), keyOf);
        const fromDatabase = await allPages((after) => stored.findEvents({ ...query, after, limit }), keyOf);
        expect(fromMemory, JSON.stringify({ query, limit })).toEqual(fromDatabase);
      }
    }
    expect(await memory.findEvents({ cityKey, limit: 100 })).toHaveLength(6);
    // The lowest-price order, keyed by the lowest amount in the currency, then the start.
    for (const priceCurrency of ["EUR", "GBP"]) {
      for (const limit of [1, 3, 100]) {
        const pageOf = (reads: typeof memory) => async (after: { key: string; id: string } | null) =>
          reads.findEvents({ cityKey, priceCurrency, after, limit });
        const summaries = await memory.summaries(events.map((event) => event.id));
        const keyOf = (event: EventState) => ({
          key: priceOrderKey(
            summaries.get(event.id)?.lowestPrices.find((price) => price.currency === priceCurrency)?.amount,
            event.startsAt,
          ),
          id: event.id,
        });
        const fromMemory = await allPages(pageOf(memory), keyOf);
        expect(fromMemory, JSON.stringify({ priceCurrency, limit })).toEqual(
          await allPages(pageOf(stored), keyOf),
        );
        expect(fromMemory.flat()).toHaveLength(6);
      }
    }

    const ids = events.map((event) => event.id);
    for (const eventId of [...ids, "no-such-event"]) {
      for (const limit of [1, 2, 5]) {
        const keyOf = (ticket: TicketState) => ({ key: ticket.listedAt, id: ticket.id });
        const fromMemory = await allPages((after) => memory.ticketsOfEvent(eventId, after, limit), keyOf);
        const fromDatabase = await allPages((after) => stored.ticketsOfEvent(eventId, after, limit), keyOf);
        expect(fromMemory, JSON.stringify({ eventId, limit })).toEqual(fromDatabase);
      }
    }
    expect(await memory.summaries([...ids, "no-such-event"])).toEqual(
      await stored.summaries([...ids, "no-such-event"]),
    );
    for (const seller of sellers) {
      expect(await memory.ticketsOfSeller(seller)).toEqual(await stored.ticketsOfSeller(seller));
    }
    for (const id of ids) expect(await memory.event(id)).toEqual(await stored.event(id));
    for (const { ticket } of listed)
      expect(await memory.ticket(ticket.id)).toEqual(await stored.ticket(ticket.id));
  });

  it("has, when a replica started after changes first reports ready, every change made before it started", async () => {
    const event = await createEvent(first, ops);
    const sellerId = randomUUID();
    const seller = auth.token(sellerId);
    const before: TicketNode[] = [];
    for (let n = 0; n < 5; n++) before.push(await listTicket(first, seller, event.id));
    const [repriced, withdrawn] = before;
    if (!repriced || !withdrawn) throw new Error("no tickets");
    dataOf(
      await first.graphql(UPDATE_TICKET, {
        token: seller,
        variables: { id: repriced.id, input: { price: { amount: 700, currency: "EUR" } } },
      }),
    );
    dataOf(await first.graphql(WITHDRAW_TICKET, { token: seller, variables: { id: withdrawn.id } }));

    // The first replica keeps listing while the second loads and catches up.
    const during: TicketNode[] = [];
    let writing = true;
    const writer = (async () => {
      while (writing) during.push(await listTicket(first, seller, event.id));
    })();
    const second = await startTickets(auth, {}, { database });
    try {
      const ready = await readyz(second);
      expect(ready.status).toBe(200);
      expect(ready.body.checks.readModel).toBe("ok");
      const seen = dataOf(
        await second.graphql<{
          event: { availableTickets: number; tickets: { edges: { node: TicketNode }[] } };
        }>(EVENT, { variables: { id: event.id, first: 100 } }),
      ).event;
      const seenIds = seen.tickets.edges.map((edge) => edge.node.id);
      for (const ticket of before.slice(2)) expect(seenIds).toContain(ticket.id);
      expect(seenIds).toContain(repriced.id);
      expect(seenIds).not.toContain(withdrawn.id);
      expect(seen.tickets.edges.find((edge) => edge.node.id === repriced.id)?.node).toMatchObject({
        version: 2,
        price: { amount: 700, currency: "EUR" },
      });

      writing = false;
      await writer;
      expect(during.length).toBeGreaterThan(0);
      // What was listed while it started arrives by the stream.
      const all = await eventually(
        () => memoryOf(second).ticketsOfEvent(event.id, null, 1_000),
        (tickets) => during.every((ticket) => tickets.some((held) => held.id === ticket.id)),
      );
      expect(all).toHaveLength(before.length - 1 + during.length);
    } finally {
      writing = false;
      await writer;
      await second.close();
    }
  });

  it("shows the mutating client its change at once, from its own command, not the stream", async () => {
    const replica = await startTickets(auth, {}, { database });
    try {
      const event = await createEvent(replica, ops, { city: `Ownton-${randomUUID().slice(0, 8)}` });
      const sellerId = randomUUID();
      const seller = auth.token(sellerId);
      const older = await listTicket(replica, seller, event.id, {
        price: { amount: 3_000, currency: "EUR" },
      });
      await eventually(
        () => memoryOf(replica).ticket(older.id),
        (ticket) => ticket !== null,
      );
      // With no follower, only the commands of this replica reach its memory; it reports not ready.
      await replica.service.readModel.stop();
      const notReady = await readyz(replica);
      expect(notReady.status).toBe(503);
      expect(notReady.body.checks.readModel).toBe("failed");

      const listed = await listTicket(replica, seller, event.id, {
        price: { amount: 2_000, currency: "EUR" },
      });
      const page = async () =>
        dataOf(
          await replica.graphql<{
            event: {
              availableTickets: number;
              tickets: { edges: { node: TicketNode }[] };
            };
          }>(EVENT, { variables: { id: event.id } }),
        ).event;
      const lowest = async () =>
        dataOf(
          await replica.graphql<{ events: { edges: { node: EventNode }[] } }>(EVENTS, {
            variables: { filter: { city: event.city } },
          }),
        ).events.edges.find((edge) => edge.node.id === event.id)?.node.lowestPrice;

      let seen = await page();
      expect(seen.tickets.edges.map((edge) => edge.node.id)).toEqual([listed.id, older.id]);
      expect(seen.availableTickets).toBe(2);
      expect(await lowest()).toEqual({ amount: 2_000, currency: "EUR" });

      const repriced = dataOf(
        await replica.graphql<{ updateTicket: TicketNode }>(UPDATE_TICKET, {
          token: seller,
          variables: { id: listed.id, input: { price: { amount: 4_500, currency: "EUR" } } },
        }),
      ).updateTicket;
      expect(repriced).toMatchObject({ version: 2, price: { amount: 4_500, currency: "EUR" } });
      expect(await lowest()).toEqual({ amount: 3_000, currency: "EUR" });

      dataOf(await replica.graphql(WITHDRAW_TICKET, { token: seller, variables: { id: older.id } }));
      seen = await page();
      expect(seen.tickets.edges.map((edge) => edge.node.id)).toEqual([listed.id]);
      expect(seen.availableTickets).toBe(1);
      expect(await lowest()).toEqual({ amount: 4_500, currency: "EUR" });
    } finally {
      await replica.close();
    }
  });

  it("shows another replica's change once its event has arrived", async () => {
    const second = await startTickets(auth, {}, { database });
    try {
      const event = await createEvent(first, ops);
      const seller = auth.token(randomUUID());
      const ticket = await listTicket(first, seller, event.id);
      const updated = dataOf(
        await first.graphql<{ updateTicket: TicketNode }>(UPDATE_TICKET, {
          token: seller,
          variables: { id: ticket.id, input: { title: "Moved to the front" } },
        }),
      ).updateTicket;
      // The follower's delay is milliseconds; two seconds only bounds the wait.
      const seen = await eventually(
        () => memoryOf(second).ticket(ticket.id),
        (state) => state?.version === updated.version,
        2_000,
      );
      expect(seen).toMatchObject({ title: "Moved to the front", version: 2 });
      expect((await readyz(second)).status).toBe(200);
    } finally {
      await second.close();
    }
  });
});
