// The gateway's cache of public responses, on real servers (auth, tickets, orders, payments):
// invalidated by the domain events it follows, never stale once their event is processed,
// shared only between anonymous and API-key clients, one execution for concurrent misses, and
// HTTP caching for GET and persisted queries. The tickets subgraph sits behind a proxy that
// counts (and can hold) the requests the gateway sends it.
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { follow, type Envelope, type Follower } from "@ticketing/shared-events";
import { createLogger } from "@ticketing/shared-runtime";
import { eventually, uniqueName } from "@ticketing/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Browser,
  EVENT_PAGE,
  EVENTS,
  SIGN_UP,
  startSystem,
  type GraphQLResponse,
  type System,
  dataOf,
} from "./support.js";

const TICKET = /* GraphQL */ `
  query Ticket($id: ID!) {
    ticket(id: $id) {
      id
      title
      section
      status
      version
      price {
        amount
        currency
      }
      event {
        id
        name
        startsAt
      }
      seller {
        id
        displayName
      }
    }
  }
`;
const CREATE_EVENT = `mutation($input: CreateEventInput!) { createEvent(input: $input) { id } }`;
const LIST_TICKET = `mutation($input: ListTicketInput!) { listTicket(input: $input) { id } }`;
const UPDATE_TICKET = `mutation($id: ID!, $input: UpdateTicketInput!) { updateTicket(id: $id, input: $input) { id version } }`;
const WITHDRAW_TICKET = `mutation($id: ID!) { withdrawTicket(id: $id) { id status } }`;
const CREATE_ORDER = `mutation($ticketId: ID!) { createOrder(ticketId: $ticketId) { id status } }`;
const CANCEL_ORDER = `mutation($id: ID!) { cancelOrder(id: $id) { id status } }`;
const START_PAYMENT = `mutation($orderId: ID!) { startPayment(orderId: $orderId) { paymentIntentId } }`;
const CONFIRM_SANDBOX = `mutation($orderId: ID!) { confirmSandboxPayment(orderId: $orderId) { id status } }`;
const CREATE_API_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key } }`;
const INTROSPECTION = "query Introspect { __schema { queryType { name } } }";

interface TicketNode {
  id: string;
  status: string;
  version: number;
  price: { amount: number; currency: string };
  seller: { id: string; displayName: string };
}
interface EventPage {
  event: { id: string; availableTickets: number; tickets: { edges: { node: TicketNode }[] } };
}

const password = "correct horse battery";
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const codeOf = (response: GraphQLResponse<unknown>) => response.errors?.[0]?.extensions?.code;
/**
 * A subgraph behind a proxy that counts the requests it forwards and can hold each answer a
 * while before passing it on (a slow network: what the gateway receives was read before).
 */
interface CountingProxy {
  url: string;
  requests: number;
  /** Answers the subgraph has given, held or not. */
  answered: number;
  holdMs: number;
  close(): Promise<void>;
}

async function countingProxy(target: string): Promise<CountingProxy> {
  const body = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const proxy: CountingProxy = {
    url: "",
    requests: 0,
    answered: 0,
    holdMs: 0,
    close: () => Promise.resolve(),
  };
  const server: Server = createServer((req, res) => {
    proxy.requests++;
    void (async () => {
      const payload = await body(req);
      const headers = Object.entries(req.headers).filter(
        (entry): entry is [string, string] =>
          typeof entry[1] === "string" && !["host", "connection", "content-length"].includes(entry[0]),
      );
      const answer = await fetch(target, { method: req.method ?? "POST", headers, body: payload });
      const text = Buffer.from(await answer.arrayBuffer());
      proxy.answered++;
      if (proxy.holdMs > 0) await new Promise((resolve) => setTimeout(resolve, proxy.holdMs));
      res.writeHead(answer.status, {
        "content-type": answer.headers.get("content-type") ?? "application/json",
      });
      res.end(text);
    })().catch(() => {
      res.writeHead(502).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  proxy.close = () => new Promise((resolve) => server.close(() => resolve()));
  return proxy;
}

type Watched = Envelope<"ticketing.ticket.created" | "ticketing.ticket.updated" | "ticketing.event.created">;

describe("the response cache", () => {
  let system: System;
  let tickets: CountingProxy;
  let ops: Browser;
  let seller: Browser;
  let eventId: string;
  let stream: Follower;
  const seen: { event: Watched; seq: number }[] = [];
  const opsEmail = `${uniqueName("ops")}@example.com`;
  const sellerEmail = `${uniqueName("seller")}@example.com`;

  beforeAll(async () => {
    system = await startSystem(
      { OPS_EMAILS: opsEmail },
      {
        // Production: introspection is for keyed partners only, which the cache must not undo.
        NODE_ENV: "production",
        RATE_LIMIT_ANONYMOUS_PER_MINUTE: "100000",
        // Long enough that only an invalidation can explain a fresh answer.
        RESPONSE_CACHE_TTL_SECONDS: "600",
      },
      {
        tickets: true,
        orders: { ORDER_HOLD_SECONDS: "900" },
        payments: {},
        route: async (name, url) => {
          if (name !== "tickets") return url;
          tickets = await countingProxy(url);
          return tickets.url;
        },
      },
    );
    stream = await follow(
      system.nc,
      ["ticketing.ticket.created", "ticketing.ticket.updated", "ticketing.event.created"],
      { from: "new", logger: createLogger("test", "silent") },
      (event, seq) => {
        seen.push({ event, seq });
      },
    );
    ops = await signedUp(opsEmail, "Ops");
    seller = await signedUp(sellerEmail, "Sam Seller");
    eventId = await createEvent(uniqueName("city"));
  });
  afterAll(async () => {
    await stream?.stop();
    await system?.stop();
    await tickets?.close();
  });

  async function signedUp(email: string, displayName: string) {
    const browser = new Browser(system.url);
    dataOf(await browser.graphql(SIGN_UP, { input: { email, password, displayName } }));
    return browser;
  }

  async function mintedBuyer() {
    const browser = new Browser(system.url);
    browser.cookies.set(
      "session",
      await system.auth.signToken({ sub: randomUUID(), sid: randomUUID(), expiresInSeconds: 600 }),
    );
    return browser;
  }

  async function createEvent(city: string) {
    const input = { name: "Night Show", venue: "Arena", city, startsAt: "2031-06-01T20:00:00Z" };
    const id = dataOf(await ops.graphql<{ createEvent: { id: string } }>(CREATE_EVENT, { input })).createEvent
      .id;
    await processed((event) => event.subject === "ticketing.event.created" && event.data.id === id);
    return id;
  }

  /**
   * Waits until the gateway has processed the first event that matches: from then on the cache
   * must not serve anything that event made stale.
   */
  async function processed(match: (event: Watched) => boolean) {
    const found = await eventually(
      () => seen.find(({ event }) => match(event)),
      (entry) => entry !== undefined,
    );
    if (!found) throw new Error("the event never came");
    const position = await eventually(
      () => system.gateway.responseCache!.position(),
      (at) => at >= found.seq,
    );
    expect(position).toBeGreaterThanOrEqual(found.seq);
  }

  const ticketIs = (id: string, status: string, version?: number) => (event: Watched) =>
    event.subject !== "ticketing.event.created" &&
    event.data.id === id &&
    event.data.status === status &&
    (version === undefined || event.data.version === version);

  async function list(amount: number) {
    const input = { eventId, title: "Row A", price: { amount, currency: "EUR" } };
    const id = dataOf(await seller.graphql<{ listTicket: { id: string } }>(LIST_TICKET, { input })).listTicket
      .id;
    await processed(ticketIs(id, "AVAILABLE", 1));
    return id;
  }

  let addresses = 0;
  /** An anonymous client, each from its own address. */
  function anonymous<T>(
    query: string,
    variables: Record<string, unknown>,
    headers: Record<string, string> = {},
  ) {
    return new Browser(system.url).graphql<T>(query, variables, {
      headers: { "x-forwarded-for": `198.51.100.${(addresses = (addresses % 250) + 1)}`, ...headers },
    });
  }

  /** Asks twice; the second answer must come from the cache (the tickets subgraph not asked). */
  async function cached<T>(query: string, variables: Record<string, unknown>): Promise<T> {
    const first = dataOf(await anonymous<T>(query, variables));
    const before = tickets.requests;
    const second = dataOf(await anonymous<T>(query, variables));
    expect(tickets.requests).toBe(before);
    expect(second).toEqual(first);
    return second;
  }

  const page = (first = 20) => anonymous<EventPage>(EVENT_PAGE, { id: eventId, first }).then(dataOf);
  const ticket = (id: string) =>
    anonymous<{ ticket: TicketNode }>(TICKET, { id }).then((r) => dataOf(r).ticket);
  const nodeOf = (current: EventPage, id: string) =>
    current.event.tickets.edges.find((edge) => edge.node.id === id)?.node;

  it("shows a listing, a price edit and a withdrawal as soon as their events are processed", async () => {
    const first = await list(4_200);
    const before = await cached<EventPage>(EVENT_PAGE, { id: eventId, first: 20 });
    expect(nodeOf(before, first)?.price.amount).toBe(4_200);
    await cached(TICKET, { id: first });

    const second = await list(5_000);
    const listed = await page();
    expect(nodeOf(listed, second)?.status).toBe("AVAILABLE");
    expect(listed.event.availableTickets).toBe(before.event.availableTickets + 1);

    await cached(EVENT_PAGE, { id: eventId, first: 20 });
    dataOf(
      await seller.graphql(UPDATE_TICKET, {
        id: first,
        input: { price: { amount: 3_900, currency: "EUR" } },
      }),
    );
    await processed(ticketIs(first, "AVAILABLE", 2));
    expect(nodeOf(await page(), first)).toMatchObject({ version: 2, price: { amount: 3_900 } });
    expect(await ticket(first)).toMatchObject({ version: 2, price: { amount: 3_900 } });

    await cached(EVENT_PAGE, { id: eventId, first: 20 });
    dataOf(await seller.graphql(WITHDRAW_TICKET, { id: second }));
    await processed(ticketIs(second, "WITHDRAWN"));
    const withdrawn = await page();
    expect(nodeOf(withdrawn, second)).toBeUndefined();
    expect(withdrawn.event.availableTickets).toBe(before.event.availableTickets);
  });

  it("shows a reservation, its release and a sale as soon as the ticket's events are processed", async () => {
    const id = await list(2_500);
    const available = (await cached<EventPage>(EVENT_PAGE, { id: eventId, first: 20 })).event
      .availableTickets;
    await cached(TICKET, { id });

    const buyer = await mintedBuyer();
    const order = async (browser: Browser) => {
      const created = await eventually(
        () => browser.graphql<{ createOrder: { id: string } }>(CREATE_ORDER, { ticketId: id }),
        (answer) => codeOf(answer) !== "NOT_FOUND",
      );
      return dataOf(created).createOrder.id;
    };
    const held = await order(buyer);
    await processed(ticketIs(id, "RESERVED"));
    expect((await ticket(id)).status).toBe("RESERVED");
    expect((await page()).event.availableTickets).toBe(available - 1);

    await cached(TICKET, { id });
    dataOf(await buyer.graphql(CANCEL_ORDER, { id: held }));
    await processed((event) => ticketIs(id, "AVAILABLE")(event) && event.version > 2);
    expect((await ticket(id)).status).toBe("AVAILABLE");
    expect((await page()).event.availableTickets).toBe(available);

    const payer = await mintedBuyer();
    const paid = await order(payer);
    dataOf(await payer.graphql(START_PAYMENT, { orderId: paid }));
    await cached(TICKET, { id });
    dataOf(await payer.graphql(CONFIRM_SANDBOX, { orderId: paid }));
    await processed(ticketIs(id, "SOLD"));
    expect((await ticket(id)).status).toBe("SOLD");
    expect(nodeOf(await page(), id)?.status).toBe("SOLD");
  });

  it("shows a new event in a list that was cached before it existed", async () => {
    const city = uniqueName("city");
    const filter = { city };
    const empty = await cached<{ events: { edges: unknown[] } }>(EVENTS, { first: 5, filter });
    expect(empty.events.edges).toEqual([]);
    const id = await createEvent(city);
    const listed = dataOf(
      await anonymous<{ events: { edges: { node: { id: string } }[] } }>(EVENTS, { first: 5, filter }),
    );
    expect(listed.events.edges.map((edge) => edge.node.id)).toEqual([id]);
  });

  it("runs one execution for concurrent misses; signed-in requests run their own", async () => {
    await list(1_100);
    tickets.holdMs = 300;
    try {
      const before = tickets.requests;
      // A page size nobody asked for yet: a new key, missed by all of them at once.
      const answers = await Promise.all(Array.from({ length: 20 }, () => page(17)));
      expect(tickets.requests - before).toBe(1);
      expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1);

      const signedIn = tickets.requests;
      await Promise.all(
        Array.from({ length: 4 }, () => seller.graphql(EVENT_PAGE, { id: eventId, first: 17 }).then(dataOf)),
      );
      expect(tickets.requests - signedIn).toBe(4);
    } finally {
      tickets.holdMs = 0;
    }
  });

  it("does not keep an answer read before an event that was processed while it was on its way", async () => {
    const id = await list(3_000);
    tickets.holdMs = 1_000;
    let slow: Promise<EventPage>;
    let landed = false;
    try {
      const answered = tickets.answered;
      slow = page(13).finally(() => (landed = true));
      await eventually(
        () => tickets.answered,
        (count) => count > answered,
      );
    } finally {
      tickets.holdMs = 0;
    }
    dataOf(await seller.graphql(UPDATE_TICKET, { id, input: { price: { amount: 2_800, currency: "EUR" } } }));
    await processed(ticketIs(id, "AVAILABLE", 2));
    expect(landed).toBe(false);
    // The slow client gets what was read for it; nobody after the event does.
    expect(nodeOf(await slow, id)?.price.amount).toBe(3_000);
    expect(nodeOf(await page(13), id)?.price.amount).toBe(2_800);
  });

  it("never gives one client another's answer: signed-in requests neither read nor fill it", async () => {
    const id = await list(900);
    const SELLER = `query Seller($id: ID!) { ticket(id: $id) { id seller { id displayName email } } }`;
    type Seller = { ticket: { seller: { email: string | null } } };
    expect((await cached<Seller>(SELLER, { id })).ticket.seller.email).toBeNull();
    // The seller sees their own email, which the cached answer does not have…
    expect(dataOf(await seller.graphql<Seller>(SELLER, { id })).ticket.seller.email).toBe(sellerEmail);
    // …and the anonymous still get theirs.
    expect(dataOf(await anonymous<Seller>(SELLER, { id })).ticket.seller.email).toBeNull();
    const ME = "query Me { me { id } }";
    expect(dataOf(await anonymous<{ me: null }>(ME, {})).me).toBeNull();
    expect(dataOf(await seller.graphql<{ me: { id: string } | null }>(ME, {})).me?.id).toBeTruthy();
    expect(dataOf(await anonymous<{ me: null }>(ME, {})).me).toBeNull();
  });

  it("shares an answer between partners, after each one's own checks", async () => {
    const keyOf = async (name: string) =>
      dataOf(await ops.graphql<{ createApiKey: { key: string } }>(CREATE_API_KEY, { input: { name } }))
        .createApiKey.key;
    const [a, b] = [await keyOf("Partner A"), await keyOf("Partner B")];
    const variables = { id: eventId, first: 7 };
    const asA = dataOf(await anonymous(EVENT_PAGE, variables, { "x-api-key": a }));
    const before = tickets.requests;
    expect(dataOf(await anonymous(EVENT_PAGE, variables, { "x-api-key": b }))).toEqual(asA);
    expect(tickets.requests).toBe(before);
    expect(
      (await anonymous(EVENT_PAGE, variables, { "x-api-key": "tkt_0123456789abcdef_nope" })).status,
    ).toBe(401);

    // In production only partners may introspect: a cached introspection does not change that.
    expect(dataOf(await anonymous(INTROSPECTION, {}, { "x-api-key": a }))).toEqual({
      __schema: { queryType: { name: "Query" } },
    });
    const refused = await anonymous(INTROSPECTION, {});
    expect(refused.status).toBe(400);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED" });
  });

  describe("over HTTP", () => {
    const get = (query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) =>
      fetch(
        `${system.url}/graphql?${new URLSearchParams({ query, variables: JSON.stringify(variables) }).toString()}`,
        {
          headers: { "apollo-require-preflight": "true", ...headers },
        },
      );

    it("lets HTTP caches keep GETs, revalidated by ETag, until the answer changes", async () => {
      const id = await list(6_000);
      const first = await get(TICKET, { id });
      expect(first.status).toBe(200);
      expect(first.headers.get("cache-control")).toBe("public, max-age=5");
      expect(first.headers.get("vary")).toMatch(/Authorization.*Cookie|Cookie.*Authorization/);
      const etag = first.headers.get("etag")!;
      expect(etag).toMatch(/^"[\w-]{43}"$/);
      const body = (await first.json()) as { data: { ticket: TicketNode } };
      expect(body.data.ticket.price.amount).toBe(6_000);

      const again = await get(TICKET, { id }, { "if-none-match": etag });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe("");
      expect(again.headers.get("etag")).toBe(etag);

      dataOf(
        await seller.graphql(UPDATE_TICKET, { id, input: { price: { amount: 5_500, currency: "EUR" } } }),
      );
      await processed(ticketIs(id, "AVAILABLE", 2));
      const changed = await get(TICKET, { id }, { "if-none-match": etag });
      expect(changed.status).toBe(200);
      expect(changed.headers.get("etag")).not.toBe(etag);
      expect(((await changed.json()) as typeof body).data.ticket.price.amount).toBe(5_500);
    });

    it("marks persisted queries public, full documents by POST and signed-in answers not storable", async () => {
      const id = await list(7_000);
      const query = `query PersistedTicket($id: ID!) { ticket(id: $id) { id status } }`;
      const persistedQuery = { version: 1, sha256Hash: sha256(query) };
      const post = (body: Record<string, unknown>) =>
        fetch(`${system.url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const registered = await post({ query, variables: { id }, extensions: { persistedQuery } });
      expect(registered.headers.get("cache-control")).toBe("public, max-age=5");
      const byHash = await post({ variables: { id }, extensions: { persistedQuery } });
      expect(byHash.headers.get("cache-control")).toBe("public, max-age=5");
      expect(byHash.headers.get("etag")).toBe(registered.headers.get("etag"));

      const full = await post({ query, variables: { id } });
      expect(full.status).toBe(200);
      expect(full.headers.get("cache-control")).toBe("no-store");

      const signedIn = await get(query, { id }, { cookie: `session=${seller.sessionCookie}` });
      expect(signedIn.status).toBe(200);
      expect(signedIn.headers.get("cache-control")).toBe("no-store");
    });
  });
});
