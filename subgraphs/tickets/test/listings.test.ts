import type { TestStream } from "@ticketing/shared-events/testing";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  codeOf,
  createEvent,
  dataOf,
  EVENT,
  FakeAuth,
  fieldOf,
  LIST_TICKET,
  listTicket,
  MY_LISTINGS,
  openOrdersStream,
  startTickets,
  TICKET,
  UPDATE_TICKET,
  WITHDRAW_TICKET,
  type EventNode,
  type RunningTickets,
  type TicketNode,
} from "./support.js";

let auth: FakeAuth;
let tickets: RunningTickets;
let ops: string;
let sellerId: string;
let seller: string;
let other: string;
let stream: TestStream;
beforeAll(async () => {
  auth = await FakeAuth.start();
  tickets = await startTickets(auth);
  ops = auth.token(undefined, ["USER", "OPS"]);
  sellerId = randomUUID();
  seller = auth.token(sellerId);
  other = auth.token();
  stream = await openOrdersStream();
});
afterAll(async () => {
  await stream.close();
  await tickets.close();
  await auth.close();
});

const update = (token: string | undefined, id: string, input: Record<string, unknown>) =>
  tickets.graphql<{ updateTicket: TicketNode }>(UPDATE_TICKET, { token, variables: { id, input } });

describe("listTicket", () => {
  it("needs a signed-in user and an existing event", async () => {
    const event = await createEvent(tickets, ops);
    const input = { eventId: event.id, title: "Seat", price: { amount: 100, currency: "EUR" } };
    expect(codeOf(await tickets.graphql(LIST_TICKET, { variables: { input } }))).toBe("UNAUTHENTICATED");
    const missing = await tickets.graphql(LIST_TICKET, {
      token: seller,
      variables: { input: { ...input, eventId: "no-such-event" } },
    });
    expect(codeOf(missing)).toBe("NOT_FOUND");
    expect(fieldOf(missing)).toBe("eventId");
  });

  it("lists an AVAILABLE ticket at version 1 and publishes its full state", async () => {
    const event = await createEvent(tickets, ops);
    const since = await stream.lastSeq();
    const ticket = await listTicket(tickets, seller, event.id, { title: " Front row ", section: "A1" });
    expect(ticket).toEqual({
      id: expect.any(String) as string,
      title: "Front row",
      section: "A1",
      status: "AVAILABLE",
      version: 1,
      price: { amount: 5_000, currency: "EUR" },
      event: { id: event.id },
      seller: { id: sellerId },
    });
    const published = await waitFor(() => stream.since(since, "ticketing.ticket.created"), ticket.id);
    expect(published).toMatchObject({ version: 1, aggregateId: ticket.id });
    expect(published?.data).toEqual({
      id: ticket.id,
      eventId: event.id,
      sellerId,
      title: "Front row",
      section: "A1",
      price: { amount: 5_000, currency: "EUR" },
      status: "AVAILABLE",
      orderId: null,
      version: 1,
    });
  });

  it.each([
    ["title", { title: "" }],
    ["title", { title: "t".repeat(121) }],
    ["section", { section: "s".repeat(41) }],
    ["price.amount", { price: { amount: 0, currency: "EUR" } }],
    ["price.amount", { price: { amount: 100_000_001, currency: "EUR" } }],
    ["price.currency", { price: { amount: 100, currency: "eur" } }],
    ["price.currency", { price: { amount: 100, currency: "XYZ" } }],
  ])("refuses a bad %s", async (field, change) => {
    const event = await createEvent(tickets, ops);
    const result = await tickets.graphql(LIST_TICKET, {
      token: seller,
      variables: {
        input: { eventId: event.id, title: "Seat", price: { amount: 100, currency: "EUR" }, ...change },
      },
    });
    expect(codeOf(result)).toBe("BAD_USER_INPUT");
    expect(fieldOf(result)).toBe(field);
  });

  it("accepts the limits: 120-character title, 40-character section, 1 and 100000000", async () => {
    const event = await createEvent(tickets, ops);
    for (const amount of [1, 100_000_000]) {
      const ticket = await listTicket(tickets, seller, event.id, {
        title: "t".repeat(120),
        section: "s".repeat(40),
        price: { amount, currency: "GBP" },
      });
      expect(ticket.price).toEqual({ amount, currency: "GBP" });
    }
  });
});

describe("updateTicket and withdrawTicket", () => {
  let event: EventNode;
  beforeAll(async () => {
    event = await createEvent(tickets, ops);
  });

  it("are for the seller only", async () => {
    const ticket = await listTicket(tickets, seller, event.id);
    expect(codeOf(await update(undefined, ticket.id, { title: "Mine" }))).toBe("UNAUTHENTICATED");
    expect(codeOf(await update(other, ticket.id, { title: "Mine" }))).toBe("FORBIDDEN");
    const withdrawn = await tickets.graphql(WITHDRAW_TICKET, { token: other, variables: { id: ticket.id } });
    expect(codeOf(withdrawn)).toBe("FORBIDDEN");
    expect(codeOf(await update(seller, "no-such-ticket", { title: "x" }))).toBe("NOT_FOUND");
    const unchanged = dataOf(
      await tickets.graphql<{ ticket: TicketNode }>(TICKET, { variables: { id: ticket.id } }),
    );
    expect(unchanged.ticket).toMatchObject({ title: "Two seats", version: 1 });
  });

  it("raise the version by one per change and publish the full state", async () => {
    const ticket = await listTicket(tickets, seller, event.id, { section: "B" });
    const since = await stream.lastSeq();
    const first = dataOf(
      await update(seller, ticket.id, { price: { amount: 4_200, currency: "EUR" } }),
    ).updateTicket;
    expect(first).toMatchObject({
      version: 2,
      title: "Two seats",
      section: "B",
      price: { amount: 4_200, currency: "EUR" },
    });
    const second = dataOf(
      await update(seller, ticket.id, { title: "Pair", section: null, expectedVersion: 2 }),
    ).updateTicket;
    expect(second).toMatchObject({ version: 3, title: "Pair", section: null, price: { amount: 4_200 } });
    const published = await waitForAll(() => stream.since(since, "ticketing.ticket.updated"), ticket.id, 2);
    expect(
      published.map((e) => [e.version, e.data.version, e.data.title, e.data.section, e.data.price.amount]),
    ).toEqual([
      [2, 2, "Two seats", "B", 4_200],
      [3, 3, "Pair", null, 4_200],
    ]);
    const withdrawn = dataOf(
      await tickets.graphql<{ withdrawTicket: TicketNode }>(WITHDRAW_TICKET, {
        token: seller,
        variables: { id: ticket.id },
      }),
    ).withdrawTicket;
    expect(withdrawn).toEqual({ id: ticket.id, status: "WITHDRAWN", version: 4 });
    expect(codeOf(await update(seller, ticket.id, { title: "Back" }))).toBe("CONFLICT");
  });

  it("refuse a stale expectedVersion with CONFLICT and change nothing", async () => {
    const ticket = await listTicket(tickets, seller, event.id);
    dataOf(await update(seller, ticket.id, { title: "Edited", expectedVersion: 1 }));
    const stale = await update(seller, ticket.id, { title: "Stale", expectedVersion: 1 });
    expect(codeOf(stale)).toBe("CONFLICT");
    const current = dataOf(
      await tickets.graphql<{ ticket: TicketNode }>(TICKET, { variables: { id: ticket.id } }),
    );
    expect(current.ticket).toMatchObject({ title: "Edited", version: 2 });
  });

  it("refuse while the ticket is RESERVED or SOLD", async () => {
    const ticket = await listTicket(tickets, seller, event.id);
    const orderId = randomUUID();
    const order = {
      id: orderId,
      ticketId: ticket.id,
      buyerId: randomUUID(),
      sellerId,
      total: ticket.price,
      createdAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    };
    await stream.publish("ticketing.order.created", order);
    await waitForStatus(ticket.id, "RESERVED");
    expect(codeOf(await update(seller, ticket.id, { title: "Edit" }))).toBe("CONFLICT");
    expect(
      codeOf(await tickets.graphql(WITHDRAW_TICKET, { token: seller, variables: { id: ticket.id } })),
    ).toBe("CONFLICT");
    await stream.publish("ticketing.order.completed", {
      id: orderId,
      ticketId: ticket.id,
      paymentId: "pay-1",
    });
    await waitForStatus(ticket.id, "SOLD");
    expect(codeOf(await update(seller, ticket.id, { title: "Edit" }))).toBe("CONFLICT");
    expect(
      codeOf(await tickets.graphql(WITHDRAW_TICKET, { token: seller, variables: { id: ticket.id } })),
    ).toBe("CONFLICT");
  });
});

describe("reading", () => {
  it("myListings shows the viewer's tickets in every status, and only theirs", async () => {
    const event = await createEvent(tickets, ops);
    const ownerId = randomUUID();
    const owner = auth.token(ownerId);
    const kept = await listTicket(tickets, owner, event.id);
    const gone = await listTicket(tickets, owner, event.id);
    await tickets.graphql(WITHDRAW_TICKET, { token: owner, variables: { id: gone.id } });
    await listTicket(tickets, other, event.id);
    const mine = dataOf(
      await tickets.graphql<{ myListings: TicketNode[] }>(MY_LISTINGS, { token: owner }),
    ).myListings;
    expect(mine.map((t) => [t.id, t.status]).sort()).toEqual(
      [
        [kept.id, "AVAILABLE"],
        [gone.id, "WITHDRAWN"],
      ].sort(),
    );
    expect(codeOf(await tickets.graphql(MY_LISTINGS))).toBe("UNAUTHENTICATED");
  });

  it("availableTickets and the lowest prices count only AVAILABLE tickets, and never compare currencies", async () => {
    const event = await createEvent(tickets, ops, { city: `Counting-${randomUUID()}` });
    const summary = async () =>
      dataOf(
        await tickets.graphql<{ events: { edges: { node: EventNode }[] } }>(
          `query ($filter: EventFilter) {
            events(filter: $filter) {
              edges { node { availableTickets currency lowestPrice { amount currency } lowestPrices { amount currency } } }
            }
          }`,
          { variables: { filter: { city: event.city } } },
        ),
      ).events.edges[0]?.node;
    expect(await summary()).toEqual({
      availableTickets: 0,
      currency: null,
      lowestPrice: null,
      lowestPrices: [],
    });
    const cheap = await listTicket(tickets, seller, event.id, { price: { amount: 1_000, currency: "EUR" } });
    await listTicket(tickets, seller, event.id, { price: { amount: 3_000, currency: "EUR" } });
    await listTicket(tickets, seller, event.id, { price: { amount: 200, currency: "GBP" } });
    const reserved = await listTicket(tickets, seller, event.id, { price: { amount: 500, currency: "EUR" } });
    await stream.publish("ticketing.order.created", {
      id: randomUUID(),
      ticketId: reserved.id,
      buyerId: randomUUID(),
      sellerId,
      total: reserved.price,
      createdAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    await waitForStatus(reserved.id, "RESERVED");
    // EUR is the event's currency (two tickets to one); £2 is not "lower" than €10.
    expect(await summary()).toEqual({
      availableTickets: 3,
      currency: "EUR",
      lowestPrice: { amount: 1_000, currency: "EUR" },
      lowestPrices: [
        { amount: 1_000, currency: "EUR" },
        { amount: 200, currency: "GBP" },
      ],
    });
    await tickets.graphql(WITHDRAW_TICKET, { token: seller, variables: { id: cheap.id } });
    expect(await summary()).toMatchObject({
      availableTickets: 2,
      currency: "EUR",
      lowestPrice: { amount: 3_000, currency: "EUR" },
    });
  });

  it("Event.tickets pages newest first, without withdrawn ones, and without duplicates or skips while tickets are added", async () => {
    const event = await createEvent(tickets, ops);
    const before: string[] = [];
    for (let i = 0; i < 7; i++)
      before.push((await listTicket(tickets, seller, event.id, { title: `t${i}` })).id);
    const withdrawn = await listTicket(tickets, seller, event.id);
    await tickets.graphql(WITHDRAW_TICKET, { token: seller, variables: { id: withdrawn.id } });

    type Page = {
      event: {
        tickets: { edges: { node: TicketNode }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
      };
    };
    const seen: string[] = [];
    let after: string | null = null;
    for (let round = 0; round < 10; round++) {
      const page: Page = dataOf(
        await tickets.graphql<Page>(EVENT, { variables: { id: event.id, first: 3, after } }),
      );
      seen.push(...page.event.tickets.edges.map((edge) => edge.node.id));
      await listTicket(tickets, seller, event.id, { title: `new${round}` });
      if (!page.event.tickets.pageInfo.hasNextPage) break;
      after = page.event.tickets.pageInfo.endCursor;
    }
    // Newest first; tickets listed within one millisecond tie on the id, so compare as sets too.
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual([...before].sort());
    expect(seen[0]).not.toBe(before[0]);
    expect(seen).not.toContain(withdrawn.id);
  });

  it("resolves Ticket and Event through _entities, null for unknown ids", async () => {
    const event = await createEvent(tickets, ops);
    const ticket = await listTicket(tickets, seller, event.id);
    const result = await tickets.graphql<{ _entities: unknown[] }>(
      `query ($representations: [_Any!]!) {
        _entities(representations: $representations) {
          ... on Ticket { id title status version price { amount currency } seller { id } event { id name } }
          ... on Event { id name availableTickets }
        }
      }`,
      {
        variables: {
          representations: [
            { __typename: "Ticket", id: ticket.id },
            { __typename: "Event", id: event.id },
            { __typename: "Ticket", id: "no-such-ticket" },
          ],
        },
      },
    );
    expect(dataOf(result)._entities).toEqual([
      {
        id: ticket.id,
        title: "Two seats",
        status: "AVAILABLE",
        version: 1,
        price: { amount: 5_000, currency: "EUR" },
        seller: { id: sellerId },
        event: { id: event.id, name: event.name },
      },
      { id: event.id, name: event.name, availableTickets: 1 },
      null,
    ]);
  });
});

async function waitForStatus(id: string, status: string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const result = await tickets.graphql<{ ticket: TicketNode }>(TICKET, { variables: { id } });
    if (result.data?.ticket.status === status) return;
    if (Date.now() > deadline) throw new Error(`ticket ${id} did not become ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitForAll<T extends { aggregateId: string }>(
  probe: () => Promise<T[]>,
  aggregateId: string,
  count: number,
) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = (await probe()).filter((event) => event.aggregateId === aggregateId);
    if (found.length >= count || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitFor<T extends { aggregateId: string }>(probe: () => Promise<T[]>, aggregateId: string) {
  return (await waitForAll(probe, aggregateId, 1))[0];
}
