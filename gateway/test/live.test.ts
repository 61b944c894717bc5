// Subscriptions over the gateway's WebSocket: ticketChanged and opsFeed, on real servers.
import { randomUUID } from "node:crypto";
import { appendFile, copyFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "@ticketing/testkit";
import { type Browser, startSystem, type System, dataOf, signedUp } from "./support.js";

const CREATE_EVENT = `mutation($input: CreateEventInput!) { createEvent(input: $input) { id } }`;
const LIST_TICKET = `mutation($input: ListTicketInput!) { listTicket(input: $input) { id version } }`;
const UPDATE_TICKET = `mutation($id: ID!, $input: UpdateTicketInput!) { updateTicket(id: $id, input: $input) { id version } }`;
const WITHDRAW_TICKET = `mutation($id: ID!) { withdrawTicket(id: $id) { id } }`;
const CREATE_ORDER = `mutation($ticketId: ID!) { createOrder(ticketId: $ticketId) { id } }`;
const CANCEL_ORDER = `mutation($id: ID!) { cancelOrder(id: $id) { id } }`;

const TICKET_CHANGES = /* GraphQL */ `
  subscription TicketChanges($eventId: ID!, $withSeller: Boolean!) {
    changed: ticketChanged(eventId: $eventId) {
      ...Seat
      seller @include(if: $withSeller) {
        id
        displayName
      }
    }
  }
  fragment Seat on Ticket {
    id
    status
    version
    price {
      amount
      currency
    }
  }
`;
const OPS_FEED = `subscription Ops($since: String) { opsFeed(since: $since) { cursor subject occurredAt data } }`;

interface Change {
  id: string;
  status: string;
  version: number;
  price: { amount: number; currency: string };
  seller?: { id: string; displayName: string };
}
interface OpsEvent {
  cursor: string;
  subject: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

/** A graphql-ws client from Node, sending the browser's cookies on the handshake. */
function wsClient(
  system: System,
  browser?: Browser,
  options: {
    retry?: boolean;
    /** graphql-ws's own choice of which closes to reconnect after (the SPA's), not "always". */
    clientRetryPolicy?: boolean;
    closed?: (code: number) => void;
  } = {},
): Client {
  const headers = browser?.cookieHeader() ?? {};
  class CookieSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  }
  return createClient({
    url: `${system.url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: CookieSocket,
    // 200 ms apart for 30 s: a gateway restarted on a loaded machine can take seconds to listen.
    retryAttempts: options.retry ? 150 : 0,
    retryWait: () => new Promise((resolve) => setTimeout(resolve, 200)),
    ...(options.clientRetryPolicy ? {} : { shouldRetry: () => options.retry ?? false }),
    lazy: true,
    on: {
      closed: (event) => options.closed?.((event as { code: number }).code),
    },
  });
}

/** Collects what one subscription emits. */
function collect<T>(client: Client, query: string, variables: Record<string, unknown>) {
  const received: T[] = [];
  const errors: unknown[] = [];
  let completed = false;
  const dispose = client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) errors.push(...result.errors);
        if (result.data) received.push(Object.values(result.data)[0]!);
      },
      error: (error) => errors.push(error),
      complete: () => {
        completed = true;
      },
    },
  );
  return { received, errors, dispose, isCompleted: () => completed };
}

let system: System;
let supergraphPath = "";
let ops: Browser;
let seller: Browser;
let buyer: Browser;

async function newEvent(name: string) {
  const created = await ops.graphql<{ createEvent: { id: string } }>(CREATE_EVENT, {
    input: { name, venue: "Hall", city: "Lyon", startsAt: "2031-09-01T20:00:00Z" },
  });
  return dataOf(created).createEvent.id;
}

const list = async (eventId: string, amount = 3_000) =>
  dataOf(
    await seller.graphql<{ listTicket: { id: string } }>(LIST_TICKET, {
      input: { eventId, title: "Seat", price: { amount, currency: "EUR" } },
    }),
  ).listTicket.id;

beforeAll(async () => {
  const opsEmail = `ops-${randomUUID()}@example.com`;
  // A copy of the supergraph the test can deploy again.
  supergraphPath = join(await mkdtemp(join(tmpdir(), "live-supergraph-")), "supergraph.graphql");
  await copyFile(fileURLToPath(new URL("../supergraph.graphql", import.meta.url)), supergraphPath);
  system = await startSystem(
    { OPS_EMAILS: opsEmail },
    { SUPERGRAPH_PATH: supergraphPath },
    { tickets: true, orders: { ORDER_HOLD_SECONDS: "600" } },
  );
  ops = await signedUp(system, opsEmail, "Ops");
  seller = await signedUp(system, `seller-${randomUUID()}@example.com`, "Sally Seller");
  buyer = await signedUp(system, `buyer-${randomUUID()}@example.com`, "Bo Buyer");
});
afterAll(() => system?.stop());

describe("ticketChanged", () => {
  it("streams every change of the event's tickets, federated fields included, and nothing of other events", async () => {
    const eventId = await newEvent("Live Night");
    const otherEvent = await newEvent("Elsewhere");
    const client = wsClient(system);
    const watch = collect<Change>(client, TICKET_CHANGES, { eventId, withSeller: true });
    const anonymousNoSeller = collect<Change>(client, TICKET_CHANGES, { eventId, withSeller: false });
    await eventually(
      () => system.gateway.live?.subscribers() ?? 0,
      (count) => count >= 2,
    );

    const ticketId = await list(eventId, 3_000);
    await list(otherEvent);
    dataOf(
      await seller.graphql(UPDATE_TICKET, {
        id: ticketId,
        input: { price: { amount: 3_500, currency: "EUR" } },
      }),
    );
    const order = await eventually(
      () => buyer.graphql<{ createOrder: { id: string } }>(CREATE_ORDER, { ticketId }),
      (response) => !response.errors,
    );
    await eventually(
      () => Promise.resolve(watch.received.at(-1)?.status),
      (status) => status === "RESERVED",
    );
    dataOf(await buyer.graphql(CANCEL_ORDER, { id: dataOf(order).createOrder.id }));
    await eventually(
      () => Promise.resolve(watch.received.at(-1)),
      (last) => last?.status === "AVAILABLE" && last.version === 4,
    );
    dataOf(await seller.graphql(WITHDRAW_TICKET, { id: ticketId }));
    const seen = await eventually(
      () => Promise.resolve(watch.received.map((change) => `${change.status}@${change.version}`)),
      (states) => states.includes("WITHDRAWN@5"),
    );

    expect(watch.errors).toEqual([]);
    expect(seen).toEqual(["AVAILABLE@1", "AVAILABLE@2", "RESERVED@3", "AVAILABLE@4", "WITHDRAWN@5"]);
    expect(watch.received.every((change) => change.id === ticketId)).toBe(true);
    expect(watch.received[1]?.price).toEqual({ amount: 3_500, currency: "EUR" });
    expect(watch.received[0]?.seller?.displayName).toBe("Sally Seller");
    await eventually(
      () => Promise.resolve(anonymousNoSeller.received.length),
      (count) => count === 5,
    );
    expect(anonymousNoSeller.received.every((change) => change.seller === undefined)).toBe(true);
    watch.dispose();
    anonymousNoSeller.dispose();
    await client.dispose();
  });

  it("refuses a subscription whose document does not validate, or a query over the WebSocket", async () => {
    const client = wsClient(system);
    const bad = collect(client, `subscription { ticketChanged(eventId: "x") { nope } }`, {});
    const query = collect(client, `query { events { edges { cursor } } }`, {});
    await eventually(
      () => Promise.resolve(bad.errors.length + query.errors.length),
      (count) => count >= 2,
    );
    expect(JSON.stringify(bad.errors)).toMatch(/nope/);
    expect(JSON.stringify(query.errors)).toMatch(/over HTTP/);
    await client.dispose();
  });

  it("lets a fast subscriber go on while a slow one does not read", async () => {
    const eventId = await newEvent("Slow and fast");
    const url = `${system.url.replace(/^http/, "ws")}/graphql`;
    // A raw client that subscribes, then stops reading its socket.
    const slow = new WebSocket(url, "graphql-transport-ws");
    await new Promise((resolve) => slow.once("open", resolve));
    slow.send(JSON.stringify({ type: "connection_init" }));
    await new Promise((resolve) => slow.once("message", resolve));
    slow.send(
      JSON.stringify({
        id: "1",
        type: "subscribe",
        payload: { query: TICKET_CHANGES, variables: { eventId, withSeller: true } },
      }),
    );
    const client = wsClient(system);
    const fast = collect<Change>(client, TICKET_CHANGES, { eventId, withSeller: false });
    await eventually(
      () => system.gateway.live?.subscribers() ?? 0,
      (count) => count >= 2,
    );
    (slow as unknown as { _socket: { pause(): void } })._socket.pause();

    const tickets = await Promise.all(Array.from({ length: 30 }, (_, i) => list(eventId, 1_000 + i)));
    const started = Date.now();
    await eventually(
      () => Promise.resolve(new Set(fast.received.map((change) => change.id)).size),
      (count) => count === tickets.length,
      20_000,
    );
    expect(new Set(fast.received.map((change) => change.id)).size).toBe(tickets.length);
    expect(Date.now() - started).toBeLessThan(20_000);

    // The slow one, reading again, gets the tickets' latest states.
    const slowIds = new Set<string>();
    slow.on("message", (raw: Buffer) => {
      const message = JSON.parse(raw.toString()) as {
        type: string;
        payload?: { data?: { changed?: Change } };
      };
      const id = message.payload?.data?.changed?.id;
      if (id) slowIds.add(id);
    });
    (slow as unknown as { _socket: { resume(): void } })._socket.resume();
    await eventually(
      () => Promise.resolve(slowIds.size),
      (count) => count === tickets.length,
    );
    expect(slowIds.size).toBe(tickets.length);
    slow.close();
    fast.dispose();
    await client.dispose();
  });
});

describe("opsFeed", () => {
  it("is refused to the anonymous and to fans", async () => {
    for (const browser of [undefined, buyer]) {
      const client = wsClient(system, browser);
      const feed = collect(client, OPS_FEED, {});
      await eventually(
        () => Promise.resolve(feed.errors.length),
        (count) => count > 0,
      );
      expect(JSON.stringify(feed.errors)).toContain("FORBIDDEN");
      await client.dispose();
    }
  });

  it("emits every event and, resumed from a cursor after a disconnect, misses and repeats nothing", async () => {
    const eventId = await newEvent("Ops watch");
    const first = wsClient(system, ops);
    const live = collect<OpsEvent>(first, OPS_FEED, {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    await list(eventId);
    await list(eventId);
    const before = await eventually(
      () => Promise.resolve(live.received.filter((event) => event.subject === "ticketing.ticket.created")),
      (created) => created.length === 2,
    );
    expect(before).toHaveLength(2);
    const cursor = live.received.at(-1)!.cursor;
    live.dispose();
    await first.dispose();

    // Disconnected: more happens.
    const missed = [await list(eventId), await list(eventId), await list(eventId)];
    const resumed = wsClient(system, ops);
    const replay = collect<OpsEvent>(resumed, OPS_FEED, { since: cursor });
    await list(eventId);
    const after = await eventually(
      () => Promise.resolve(replay.received.filter((event) => event.subject === "ticketing.ticket.created")),
      (created) => created.length === 4,
    );
    const cursors = replay.received.map((event) => Number(event.cursor));
    expect(cursors[0]).toBe(Number(cursor) + 1);
    expect(cursors).toEqual(cursors.map((_, i) => Number(cursor) + 1 + i));
    expect(after.slice(0, 3).map((event) => event.data.id)).toEqual(missed);
    expect(replay.received.every((event) => !Number.isNaN(Date.parse(event.occurredAt)))).toBe(true);
    replay.dispose();
    await resumed.dispose();
  });
});

describe("a new supergraph", () => {
  it("ends open subscriptions with SUPERGRAPH_CHANGED, and a new subscription works on the new graph", async () => {
    const eventId = await newEvent("Redeploy");
    const client = wsClient(system);
    const before = collect<Change>(client, TICKET_CHANGES, { eventId, withSeller: false });
    await eventually(
      () => system.gateway.live?.subscribers() ?? 0,
      (count) => count >= 1,
    );
    await appendFile(supergraphPath, "\n# deployed again\n");
    await eventually(
      () => Promise.resolve(before.isCompleted()),
      (completed) => completed,
    );
    expect(JSON.stringify(before.errors)).toContain("SUPERGRAPH_CHANGED");

    const after = collect<Change>(client, TICKET_CHANGES, { eventId, withSeller: false });
    await eventually(
      () => system.gateway.live?.subscribers() ?? 0,
      (count) => count >= 1,
    );
    const ticketId = await list(eventId);
    await eventually(
      () => Promise.resolve(after.received.map((change) => change.id)),
      (ids) => ids.includes(ticketId),
    );
    expect(after.received.map((change) => change.id)).toContain(ticketId);
    after.dispose();
    await client.dispose();
  });
});

describe("a gateway restart", () => {
  it("closes the sockets with 1012, and the clients reconnect by themselves and get the changes again", async () => {
    const eventId = await newEvent("Restart");
    const closes: number[] = [];
    const client = wsClient(system, undefined, {
      retry: true,
      clientRetryPolicy: true,
      closed: (code) => closes.push(code),
    });
    const watch = collect<Change>(client, TICKET_CHANGES, { eventId, withSeller: false });
    await eventually(
      () => system.gateway.live?.subscribers() ?? 0,
      (count) => count >= 1,
    );
    await list(eventId);
    await eventually(
      () => Promise.resolve(watch.received.length),
      (count) => count === 1,
    );
    const restarted = await system.restartGateway();
    // The client reconnects once the new gateway listens, seconds later on a loaded machine: the
    // listing must come after the subscription is back, or there is nothing to receive it.
    const resubscribed = await eventually(
      () => restarted.live?.subscribers() ?? 0,
      (count) => count >= 1,
      30_000,
    );
    expect(resubscribed).toBeGreaterThanOrEqual(1);
    const ticketId = await list(eventId);
    const after = await eventually(
      () => Promise.resolve(watch.received.map((change) => change.id)),
      (ids) => ids.includes(ticketId),
    );
    expect(after).toContain(ticketId);
    // Service restart: the subscription was never completed, the client took it to the new gateway.
    expect(closes[0]).toBe(1012);
    expect(watch.isCompleted()).toBe(false);
    expect(watch.errors).toEqual([]);
    watch.dispose();
    await client.dispose();
  }, 60_000);

  it("sends a client that connects while the gateway closes on with 1012, not into a closing gateway", async () => {
    const gateway = await system.restartGateway();
    const url = `${system.url.replace(/^http/, "ws")}/graphql`;
    // A client that does not read the close keeps the gateway waiting for it.
    const deaf = new WebSocket(url, "graphql-transport-ws");
    await new Promise((resolve) => deaf.once("open", resolve));
    (deaf as unknown as { _socket: { pause(): void } })._socket.pause();
    const closing = gateway.live!.close(5_000);

    const late = new WebSocket(url, "graphql-transport-ws");
    const sentOn = Date.now();
    const code = await new Promise<number>((resolve) => late.once("close", resolve));
    expect(code).toBe(1012);
    expect(Date.now() - sentOn).toBeLessThan(5_000);
    deaf.terminate();
    await closing;
    await system.restartGateway();
  }, 30_000);
});
