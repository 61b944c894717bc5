// Buying through the gateway: auth, tickets, orders and the expiration worker on real servers.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "@ticketing/testkit";
import { Browser, startSystem, type GraphQLResponse, type System, dataOf, signedUp } from "./support.js";

const CREATE_EVENT = `mutation($input: CreateEventInput!) { createEvent(input: $input) { id } }`;
const LIST_TICKET = `mutation($input: ListTicketInput!) { listTicket(input: $input) { id } }`;
const TICKET = `query($id: ID!) { ticket(id: $id) { id status } }`;
const CREATE_ORDER = `mutation CreateOrder($ticketId: ID!) {
  createOrder(ticketId: $ticketId) {
    id status expiresAt createdAt
    total { amount currency }
    ticket { id title }
    buyer { id }
  }
}`;
const CANCEL_ORDER = `mutation CancelOrder($id: ID!) { cancelOrder(id: $id) { id status } }`;
const ORDER = `query Order($id: ID!) {
  order(id: $id) {
    id status expiresAt createdAt
    total { amount currency }
    ticket { id title status event { id name } seller { id displayName } }
    buyer { id }
  }
}`;
const MY_ORDERS = `query MyOrders($first: Int, $after: String) {
  myOrders(first: $first, after: $after) {
    edges { cursor node { id status createdAt expiresAt total { amount currency } ticket { id title } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface OrderNode {
  id: string;
  status: string;
  expiresAt: string;
  createdAt: string;
  total: { amount: number; currency: string };
  ticket: { id: string; title: string; status?: string; seller?: { displayName: string } };
  buyer: { id: string };
}

const codeOf = (response: GraphQLResponse<unknown>) => response.errors?.[0]?.extensions?.code;
/**
 * A signed-in buyer without a sign-up's password hashing: a token auth itself signed, for a
 * session auth does not know. Enough for orders and tickets; auth refuses it.
 */
async function mintedBuyer(system: System): Promise<Browser> {
  const browser = new Browser(system.url);
  const token = await system.auth.signToken({ sub: randomUUID(), sid: randomUUID(), expiresInSeconds: 600 });
  browser.cookies.set("session", token);
  return browser;
}

interface Shop {
  system: System;
  ops: Browser;
  seller: Browser;
  eventId: string;
}

async function openShop(orders: Record<string, string>): Promise<Shop> {
  const ops = `ops-${randomUUID()}@example.com`;
  // The race sends a thousand requests from one address: the per-address limit is not under test.
  const system = await startSystem(
    { OPS_EMAILS: ops },
    { RATE_LIMIT_ANONYMOUS_PER_MINUTE: "1000000" },
    { tickets: true, orders, expiration: true },
  );
  const opsBrowser = await signedUp(system, ops, "Ops");
  const seller = await signedUp(system, `seller-${randomUUID()}@example.com`, "Sam Seller");
  const event = dataOf(
    await opsBrowser.graphql<{ createEvent: { id: string } }>(CREATE_EVENT, {
      input: { name: "Night Show", venue: "Arena", city: "Lyon", startsAt: "2031-06-01T20:00:00Z" },
    }),
  );
  return { system, ops: opsBrowser, seller, eventId: event.createEvent.id };
}

async function list(shop: Shop, amount = 4_200): Promise<string> {
  const listed = dataOf(
    await shop.seller.graphql<{ listTicket: { id: string } }>(LIST_TICKET, {
      input: { eventId: shop.eventId, title: "Row A", price: { amount, currency: "EUR" } },
    }),
  );
  return listed.listTicket.id;
}

/**
 * A buyer pressing Buy as a person would under load: told RATE_LIMITED (with its Retry-After), it
 * waits that long and presses again. Counts the refusals in `refusals`.
 */
async function press(buyer: Browser, ticketId: string, refusals: { count: number }) {
  for (;;) {
    const response = await buyer.graphql<{ createOrder: OrderNode }>(CREATE_ORDER, { ticketId });
    if (codeOf(response) !== "RATE_LIMITED") return response;
    const retryAfter = response.errors?.[0]?.extensions?.retryAfter;
    expect(retryAfter).toBeGreaterThan(0);
    expect(response.headers.get("retry-after")).toBe(String(retryAfter));
    refusals.count++;
    await new Promise((resolve) => setTimeout(resolve, retryAfter! * 1_000));
  }
}

/** createOrder, retried while orders has not yet heard of a ticket just listed. */
async function order(browser: Browser, ticketId: string) {
  return eventually(
    () => browser.graphql<{ createOrder: OrderNode }>(CREATE_ORDER, { ticketId }),
    (response) => codeOf(response) !== "NOT_FOUND",
  );
}

const ticketStatus = async (shop: Shop, id: string) =>
  dataOf(await shop.ops.graphql<{ ticket: { status: string } }>(TICKET, { id })).ticket.status;

/** Polls the ticket's status until it is `status`; returns how long that took. */
async function statusWithin(shop: Shop, id: string, status: string): Promise<number> {
  const started = Date.now();
  const seen = await eventually(
    () => ticketStatus(shop, id),
    (current) => current === status,
  );
  expect(seen).toBe(status);
  return Date.now() - started;
}

describe("buying, with a 15-minute hold", () => {
  let shop: Shop;
  beforeAll(async () => {
    shop = await openShop({ ORDER_HOLD_SECONDS: "900" });
  });
  afterAll(() => shop?.system.stop());

  it("follows the contract's rules for createOrder and shows the ticket RESERVED within a second", async () => {
    const ticketId = await list(shop, 4_200);
    const anonymous = new Browser(shop.system.url);
    expect(codeOf(await anonymous.graphql(CREATE_ORDER, { ticketId }))).toBe("UNAUTHENTICATED");
    expect(codeOf(await shop.seller.graphql(CREATE_ORDER, { ticketId: randomUUID() }))).toBe("NOT_FOUND");
    expect(codeOf(await order(shop.seller, ticketId))).toBe("BAD_USER_INPUT");

    const buyer = await signedUp(shop.system, `buyer-${randomUUID()}@example.com`);
    const before = Date.now();
    const created = dataOf(await order(buyer, ticketId)).createOrder;
    expect(created).toMatchObject({
      status: "AWAITING_PAYMENT",
      total: { amount: 4_200, currency: "EUR" },
      ticket: { id: ticketId, title: "Row A" },
    });
    expect(Date.parse(created.expiresAt) - Date.parse(created.createdAt)).toBe(900_000);
    expect(Math.abs(Date.parse(created.createdAt) - before)).toBeLessThan(5_000);
    expect(await statusWithin(shop, ticketId, "RESERVED")).toBeLessThan(1_000);

    const rival = await mintedBuyer(shop.system);
    expect(codeOf(await order(rival, ticketId))).toBe("CONFLICT");

    // The whole Order of the contract, federated: ticket and event from tickets, seller from auth.
    const read = dataOf(await buyer.graphql<{ order: OrderNode }>(ORDER, { id: created.id })).order;
    expect(read.ticket).toMatchObject({
      id: ticketId,
      status: "RESERVED",
      seller: { displayName: "Sam Seller" },
    });
    expect(codeOf(await rival.graphql(ORDER, { id: created.id }))).toBe("FORBIDDEN");
    expect(dataOf(await shop.ops.graphql<{ order: OrderNode }>(ORDER, { id: created.id })).order.id).toBe(
      created.id,
    );
    const mine = dataOf(
      await buyer.graphql<{ myOrders: { edges: { node: OrderNode }[] } }>(MY_ORDERS, { first: 10 }),
    ).myOrders;
    expect(mine.edges.map((edge) => edge.node.id)).toEqual([created.id]);
  });

  it("cancels for the buyer only and makes the ticket AVAILABLE again within a second", async () => {
    const ticketId = await list(shop);
    const buyer = await mintedBuyer(shop.system);
    const created = dataOf(await order(buyer, ticketId)).createOrder;
    await statusWithin(shop, ticketId, "RESERVED");

    const stranger = await mintedBuyer(shop.system);
    expect(codeOf(await stranger.graphql(CANCEL_ORDER, { id: created.id }))).toBe("FORBIDDEN");
    expect(
      dataOf(await buyer.graphql<{ cancelOrder: OrderNode }>(CANCEL_ORDER, { id: created.id })).cancelOrder
        .status,
    ).toBe("CANCELLED");
    expect(await statusWithin(shop, ticketId, "AVAILABLE")).toBeLessThan(1_000);
    expect(codeOf(await buyer.graphql(CANCEL_ORDER, { id: created.id }))).toBe("CONFLICT");
    // Free again: the next buyer gets it.
    expect(dataOf(await order(stranger, ticketId)).createOrder.status).toBe("AWAITING_PAYMENT");
  });

  it("lets exactly one of 200 concurrent buyers have a ticket, 20 times over", async () => {
    const buyers = await Promise.all(Array.from({ length: 200 }, () => mintedBuyer(shop.system)));
    for (let round = 0; round < 20; round++) {
      const ticketId = await list(shop);
      await order(shop.seller, ticketId); // known to orders once refused as the seller's own
      const refusals = { count: 0 };
      const attempts = await Promise.all(buyers.map((buyer) => press(buyer, ticketId, refusals)));
      // Counted by answer, so a failure says what the others were told.
      const answers: Record<string, number> = {};
      for (const response of attempts) {
        const answer = response.errors ? (codeOf(response) ?? "uncoded") : "ordered";
        answers[answer] = (answers[answer] ?? 0) + 1;
      }
      expect(answers).toEqual({ ordered: 1, CONFLICT: 199 });
    }
  }, 300_000);

  it("gives 100 tickets raced by 1,000 buyers to exactly 100 of them", async () => {
    // Listed ten at a time, as a seller's tool would: a hundred mutations at once would be an
    // on-sale of their own, and the gateway would refuse some (RATE_LIMITED).
    const tickets: string[] = [];
    while (tickets.length < 100)
      tickets.push(...(await Promise.all(Array.from({ length: 10 }, () => list(shop)))));
    // Orders knows every ticket once the last one listed can be ordered by its seller (refused as own).
    for (const id of tickets) await order(shop.seller, id);
    const buyers = await Promise.all(Array.from({ length: 1_000 }, () => mintedBuyer(shop.system)));
    // All 1,000 race at once; at most 200 connections are open at a time, as a load balancer would.
    let next = 0;
    const attempts: GraphQLResponse<{ createOrder: OrderNode }>[] = [];
    const refusals = { count: 0 };
    await Promise.all(
      Array.from({ length: 200 }, async () => {
        while (next < buyers.length) {
          const index = next++;
          attempts.push(await press(buyers[index]!, tickets[index % 100]!, refusals));
        }
      }),
    );
    const refused = attempts.filter((response) => response.errors);
    // Every attempt that lost is refused as a conflict, and for no other reason.
    expect(
      refused.filter((response) => codeOf(response) !== "CONFLICT").map((response) => response.errors),
    ).toEqual([]);
    const won = attempts.filter((response) => !response.errors).map((response) => response.data!.createOrder);
    expect(won).toHaveLength(100);
    expect(new Set(won.map((created) => created.ticket.id)).size).toBe(100);
    expect(refused).toHaveLength(900);
    expect(attempts.every((response) => response.status < 500)).toBe(true);
    console.log(`[buying] 1,000 buyers for 100 tickets: ${refusals.count} answers RATE_LIMITED, retried`);
  }, 180_000);
});

describe("holds that run out", () => {
  let shop: Shop;
  beforeAll(async () => {
    // The sweeper is kept out of the way: expiry here comes from the expiration worker.
    shop = await openShop({ ORDER_HOLD_SECONDS: "2", ORDER_SWEEP_SECONDS: "3600" });
  });
  afterAll(() => shop?.system.stop());

  async function expiresOnTime(interrupt?: () => Promise<void>) {
    const ticketId = await list(shop);
    const buyer = await signedUp(shop.system, `buyer-${randomUUID()}@example.com`);
    const created = dataOf(await order(buyer, ticketId)).createOrder;
    await interrupt?.();
    const ended = await eventually(
      () =>
        buyer
          .graphql<{ order: OrderNode }>(ORDER, { id: created.id })
          .then((response) => dataOf(response).order),
      (current) => current.status !== "AWAITING_PAYMENT",
      10_000,
    );
    const late = Date.now() - Date.parse(created.expiresAt);
    expect(ended.status).toBe("EXPIRED");
    expect(late).toBeLessThan(1_000);
    expect(await statusWithin(shop, ticketId, "AVAILABLE")).toBeLessThan(1_000);
  }

  it("expires an unpaid order within a second of expiresAt and releases the ticket", async () => {
    await expiresOnTime();
  });

  it("expires on time also when the expiration worker was stopped and started in between", async () => {
    await expiresOnTime(async () => {
      await shop.system.expiration!.stop();
      await shop.system.expiration!.start();
    });
  });
});
