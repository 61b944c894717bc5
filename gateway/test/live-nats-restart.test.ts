// Subscriptions while the event stream goes away: NATS killed (SIGKILL) and started again on its
// data folder, under the gateway and the tickets subgraph, which both use a server of this file's
// own. Subscribers keep receiving once it is back, and one that cannot be served gets an error
// with a code (SERVICE_UNAVAILABLE), never silence.
import { randomUUID } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ensureStreams, STREAM } from "@ticketing/shared-events";
import { createIdentity, createLogger, type ProcessIdentity } from "@ticketing/shared-runtime";
import { eventually, infra, OwnServer, uniqueName } from "@ticketing/testkit";
import { ticketsService, loadEnv as loadTicketsEnv } from "@ticketing/tickets";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { createApiKeys, type ApiKeys } from "../src/api-keys.js";
import { loadEnv } from "../src/env.js";
import { createGateway, type Gateway } from "../src/server.js";
import { startAuth, type RunningAuth } from "./auth.js";
import { Browser, SIGN_UP, dataOf } from "./support.js";

const CREATE_EVENT = `mutation($input: CreateEventInput!) { createEvent(input: $input) { id } }`;
const LIST_TICKET = `mutation($input: ListTicketInput!) { listTicket(input: $input) { id } }`;
const TICKET_CHANGES = `subscription($eventId: ID!) { ticketChanged(eventId: $eventId) { id status version } }`;
const OPS_FEED = `subscription Ops($since: String) { opsFeed(since: $since) { cursor subject data } }`;

interface Change {
  id: string;
  status: string;
  version: number;
}
interface OpsEvent {
  cursor: string;
  subject: string;
  data: { id?: string; eventId?: string };
}

/** A graphql-ws client from Node, sending the browser's cookies on the handshake; no retries. */
function wsClient(origin: string, browser?: Browser): Client {
  const headers = browser?.cookieHeader() ?? {};
  class CookieSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  }
  return createClient({
    url: `${origin.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: CookieSocket,
    retryAttempts: 0,
    lazy: true,
  });
}

/** Collects what one subscription emits, and the error codes it is given. */
function collect<T>(client: Client, query: string, variables: Record<string, unknown>) {
  const received: T[] = [];
  /** When each of `received` came. */
  const receivedAt: number[] = [];
  const codes: string[] = [];
  let completed = false;
  client.subscribe<Record<string, T>>(
    { query, variables },
    {
      next: (result) => {
        for (const error of result.errors ?? []) codes.push(String(error.extensions?.code));
        if (result.data) {
          received.push(Object.values(result.data)[0]!);
          receivedAt.push(Date.now());
        }
      },
      error: (error) => codes.push(`socket: ${JSON.stringify(error)}`),
      complete: () => {
        completed = true;
      },
    },
  );
  return { received, receivedAt, codes, isCompleted: () => completed };
}

let nats: OwnServer;
let nc: NatsConnection;
let auth: RunningAuth;
let tickets: { url: string; close(): Promise<void> };
let identity: ProcessIdentity;
let apiKeys: ApiKeys;
let gateway: Gateway;
let origin: string;
let ops: Browser;
let seller: Browser;

beforeAll(async () => {
  nats = await OwnServer.start("nats");
  // As the gateway's bootstrap connects: reconnecting for as long as it takes.
  nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  await ensureStreams(nc);
  const opsEmail = `ops-${randomUUID()}@example.com`;
  auth = await startAuth({ OPS_EMAILS: opsEmail });
  const jwksUrl = `${auth.baseUrl}/.well-known/jwks.json`;
  const ticketsRunning = await ticketsService.start(
    loadTicketsEnv({
      MONGO_URL: infra().mongoUrl,
      NATS_URL: nats.url,
      AUTH_JWKS_URL: jwksUrl,
      DEMO_CATALOG: "off",
      LOG_LEVEL: "silent",
    }),
    {
      database: uniqueName("tickets"),
      ordersConsumer: uniqueName("tickets-orders"),
      passesConsumer: uniqueName("tickets-passes"),
      logger: createLogger("tickets", "silent"),
    },
  );
  const { port: ticketsPort } = await ticketsRunning.listen(0, "127.0.0.1");
  tickets = { url: `http://127.0.0.1:${ticketsPort}/graphql`, close: () => ticketsRunning.close() };

  const web = await mkdtemp(join(tmpdir(), "gateway-web-"));
  await writeFile(join(web, "index.html"), "<!doctype html><title>Ticketing</title>");
  const logger = createLogger("gateway", "silent");
  const env = loadEnv({
    NATS_URL: nats.url,
    AUTH_URL: auth.baseUrl,
    SUBGRAPH_AUTH_URL: `${auth.baseUrl}/graphql`,
    SUBGRAPH_TICKETS_URL: tickets.url,
    WEB_ROOT: web,
    PORT: "0",
    REDIS_URL: infra().redisUrl,
  });
  identity = await createIdentity(nc, env.jwksUrl, logger);
  apiKeys = await createApiKeys({ authUrl: env.authUrl, nc, logger });
  gateway = await createGateway({ env, logger, verifier: identity.verifier, apiKeys, nats: nc });
  const { port } = await gateway.listen(0, "127.0.0.1");
  origin = `http://127.0.0.1:${port}`;

  const signUp = async (email: string, displayName: string) => {
    const browser = new Browser(origin);
    dataOf(
      await browser.graphql(SIGN_UP, { input: { email, password: "correct horse battery", displayName } }),
    );
    return browser;
  };
  ops = await signUp(opsEmail, "Ops");
  seller = await signUp(`seller-${randomUUID()}@example.com`, "Sally Seller");
});

afterAll(async () => {
  await gateway?.close();
  await apiKeys?.stop();
  await identity?.stop();
  await tickets?.close();
  await auth?.stop();
  if (nc && !nc.isClosed()) await nc.close();
  await nats?.remove();
});

const list = async (eventId: string) =>
  dataOf(
    await seller.graphql<{ listTicket: { id: string } }>(LIST_TICKET, {
      input: { eventId, title: "Seat", price: { amount: 2_000, currency: "EUR" } },
    }),
  ).listTicket.id;

const listed = (feed: { received: OpsEvent[] }) =>
  feed.received.filter((event) => event.subject === "ticketing.ticket.created").map((event) => event.data.id);

it("keeps subscribers receiving through a NATS restart, and ends them with SERVICE_UNAVAILABLE when the stream is gone for good", async () => {
  const eventId = dataOf(
    await ops.graphql<{ createEvent: { id: string } }>(CREATE_EVENT, {
      input: { name: "Outage", venue: "Hall", city: "Lyon", startsAt: "2031-09-01T20:00:00Z" },
    }),
  ).createEvent.id;
  const fans = wsClient(origin);
  const opsClient = wsClient(origin, ops);
  const before = collect<Change>(fans, TICKET_CHANGES, { eventId });
  const feed = collect<OpsEvent>(opsClient, OPS_FEED, {});
  await eventually(
    () => gateway.live?.subscribers() ?? 0,
    (count) => count >= 1,
  );
  await sleep(300); // the ops feed's follower opens
  const first = await list(eventId);
  await eventually(
    () => before.received.map((change) => change.id),
    (ids) => ids.includes(first),
  );
  await eventually(
    () => listed(feed),
    (ids) => ids.includes(first),
  );

  await nats.kill();
  const killedAt = Date.now();
  // An ops feed cannot start without the stream: it is refused with a code, not left hanging.
  const refused = collect<OpsEvent>(opsClient, OPS_FEED, {});
  // A ticket subscription needs nothing from the stream to start: it joins the running feed.
  const joined = collect<Change>(fans, TICKET_CHANGES, { eventId });
  // Committed by tickets now; its outbox publishes the event once NATS is back.
  const second = await list(eventId);
  await eventually(
    () => refused.isCompleted(),
    (completed) => completed,
    15_000,
  );
  expect(refused.codes).toEqual(["SERVICE_UNAVAILABLE"]);
  expect(refused.received).toEqual([]);
  await sleep(Math.max(0, 3_000 - (Date.now() - killedAt)));

  await nats.restart();
  const third = await list(eventId);
  const expected = [first, second, third].sort();
  // How soon tickets' outbox publishes again is tickets' business; the gateway's is below.
  await eventually(
    () => [...new Set(before.received.map((change) => change.id))].sort(),
    (ids) => ids.length === 3,
    30_000,
  );
  await eventually(
    () => [...new Set(joined.received.map((change) => change.id))].sort(),
    (ids) => ids.length === 2,
    10_000,
  );
  await eventually(
    () => listed(feed),
    (ids) => ids.length === 3,
    10_000,
  );
  await sleep(500); // anything repeated would have come by now

  expect(before.codes).toEqual([]);
  expect(before.received.map((change) => change.id).sort()).toEqual(expected);
  expect(joined.codes).toEqual([]);
  expect(joined.received.map((change) => change.id).sort()).toEqual([second, third].sort());
  expect(feed.codes).toEqual([]);
  expect(listed(feed).sort()).toEqual(expected);
  // Every message on this stream is an event, so a feed that lost or repeated none counts by one.
  const cursors = feed.received.map((event) => Number(event.cursor));
  expect(cursors).toEqual(cursors.map((_, i) => cursors[0]! + i));
  // Not silent after the restart: each change reached its subscribers as soon as it was stored.
  const jsm = await jetstreamManager(nc);
  for (const event of feed.received.filter((e) => e.subject === "ticketing.ticket.created")) {
    const stored = await jsm.streams.getMessage(STREAM, { seq: Number(event.cursor) });
    const index = before.received.findIndex((change) => change.id === event.data.id);
    expect(before.receivedAt[index]! - stored!.time.getTime()).toBeLessThan(2_000);
  }

  // The gateway's connection closes for good: every open subscription is told so and completes.
  await nc.close();
  await eventually(
    () => [before, joined, feed].every((subscription) => subscription.isCompleted()),
    Boolean,
    10_000,
  );
  expect(before.codes).toEqual(["SERVICE_UNAVAILABLE"]);
  expect(joined.codes).toEqual(["SERVICE_UNAVAILABLE"]);
  expect(feed.codes).toEqual(["SERVICE_UNAVAILABLE"]);
  await fans.dispose();
  await opsClient.dispose();
});
