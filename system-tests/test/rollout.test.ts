// A rollout of every deployable under load, counting failed requests: there must be none.
//
// Each service runs behind a Service of its own, as on Kubernetes (testkit's `rolling`: a proxy
// on the service's port handing new connections to its ready instances), the gateway as two
// replicas. Every service is rolled at once, as `helm upgrade` rolls every Deployment, each the
// way a rolling update does with the chart's settings (SHUTDOWN_DELAY_MS 5 s, maxSurge 1,
// maxUnavailable 0): a new instance, taken into the Service once its /readyz answers; then the
// old one gets SIGTERM and leaves the Service's endpoints a second later (endpoints and proxies
// hear of a terminating pod late); the gateway's two replicas one after the other. Meanwhile
// fans read the catalog, buy and pay through the gateway, and live subscribers (graphql-ws as
// the SPA uses it) watch an event.
//
// What must hold: no request without an answer, no HTTP error, no GraphQL error (no business
// outcome is expected either: each buyer buys a ticket of its own); every old instance exits 0
// (its shutdown finished within its budget); every purchase completes; every live subscriber saw
// only 1012 (service restart) closes, reconnected by itself and receives changes after the rollout.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SERVICES, startInfraServers, startSystem, type InfraServers, type System } from "@ticketing/testkit";
import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import {
  CONFIRM_SANDBOX,
  CREATE_EVENT,
  CREATE_ORDER,
  LIST_TICKET,
  START_PAYMENT,
  TICKET_CHANGES,
  dataOf,
  describeOutcome,
  readOrder,
  signedUp,
  Fan,
} from "./graph.js";
import { CONVERGE_MS } from "./measure.js";

const OPS_EMAIL = `ops-${randomUUID()}@rollout.example`;
const SETTINGS = {
  // As the chart sets them.
  SHUTDOWN_DELAY_MS: "5000",
  SHUTDOWN_TIMEOUT_MS: "25000",
  ORDER_HOLD_SECONDS: "900",
  OPS_EMAILS: OPS_EMAIL,
  DEMO_CATALOG: "off",
  DEMO_ACCOUNTS: "off",
  SIGNIN_LIMIT_PER_ADDRESS: "1000",
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: "1000000",
};
const READERS = 3;
const BUYERS = 3;
const WATCHERS = 3;

const EVENTS = `query Events { events(first: 5) { edges { node { id name availableTickets } } } }`;
const EVENT_PAGE = `query Event($id: ID!) {
  event(id: $id) { id tickets(first: 10) { edges { node { id status seller { displayName } } } } }
}`;

let dataDir: string;
let servers: InfraServers;
let system: System;
let eventId: string;
let seller: Fan;
let buyers: Fan[];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "ticketing-rollout-"));
  const logDir = join(import.meta.dirname, "..", "test-results", "logs-rollout");
  await rm(logDir, { recursive: true, force: true });
  servers = await startInfraServers({ dir: dataDir });
  system = await startSystem({
    infra: servers.urls,
    env: SETTINGS,
    logDir,
    rolling: { gatewayReplicas: 2, endpointLagMs: 1_000 },
  });
  const ops = await signedUp(system.origin, "Ops", OPS_EMAIL);
  seller = await signedUp(system.origin, "Sam Seller");
  buyers = await Promise.all(Array.from({ length: BUYERS }, (_, i) => signedUp(system.origin, `Buyer ${i}`)));
  const created = await ops.attempt<{ createEvent: { id: string } }>(CREATE_EVENT, {
    input: { name: "Rollout", venue: "Hall", city: "Lille", startsAt: "2031-09-01T20:00:00Z" },
  });
  const event = dataOf(created)?.createEvent;
  if (!event) throw new Error(`createEvent: ${describeOutcome(created)}`);
  eventId = event.id;
});

afterAll(async () => {
  await system?.stop();
  await servers?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Every answer that was not a success, with what was asked. */
const failures: string[] = [];
let requests = 0;

/** One request of the load; anything but an answer without errors is a failure. */
async function call<T>(fan: Fan, what: string, query: string, variables: Record<string, unknown> = {}) {
  requests++;
  const outcome = await fan.attempt<T>(query, variables);
  const data = dataOf(outcome);
  if (data === undefined) failures.push(`${what}: ${describeOutcome(outcome)}`);
  return data;
}

/** A live subscriber as the SPA's: graphql-ws reconnecting after any close it may retry. */
function watcher() {
  const closes: number[] = [];
  let lastClosedAt = 0;
  let lastConnectedAt = 0;
  const received = new Set<string>();
  const errors: unknown[] = [];
  const client: Client = createClient({
    url: `${system.origin.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: Number.POSITIVE_INFINITY,
    lazy: true,
    on: {
      connected: () => void (lastConnectedAt = Date.now()),
      closed: (event) => {
        lastClosedAt = Date.now();
        closes.push((event as { code: number }).code);
      },
    },
  });
  const dispose = client.subscribe<{ ticketChanged: { id: string } }>(
    { query: TICKET_CHANGES, variables: { eventId } },
    {
      next: (result) => {
        if (result.errors?.length) errors.push(result.errors);
        if (result.data) received.add(result.data.ticketChanged.id);
      },
      error: (error) => errors.push(error),
      complete: () => errors.push("completed"),
    },
  );
  return {
    closes,
    received,
    errors,
    /** Connected again since its last close. */
    connected: () => lastConnectedAt > lastClosedAt,
    async close() {
      dispose();
      // The client's last close ("all subscriptions gone") is no failure of the rollout.
      await Promise.resolve(client.dispose()).catch(() => undefined);
    },
  };
}

it("rolls every service under load without one failed request", async () => {
  const watchers = Array.from({ length: WATCHERS }, watcher);
  const orders: { buyer: Fan; id: string }[] = [];
  let loading = true;

  const readers = Array.from({ length: READERS }, async (_, i) => {
    const reader = new Fan(system.origin);
    while (loading) {
      await call(reader, `reader ${i}: events`, EVENTS);
      await call(reader, `reader ${i}: event page`, EVENT_PAGE, { id: eventId });
      await sleep(20);
    }
  });
  const purchases = buyers.map(async (buyer, i) => {
    for (let n = 0; loading; n++) {
      const listed = await call<{ listTicket: { id: string } }>(
        seller,
        `buyer ${i}: listTicket`,
        LIST_TICKET,
        {
          input: { eventId, title: `Seat ${i}-${n}`, price: { amount: 4_000 + n, currency: "EUR" } },
        },
      );
      if (!listed) continue;
      const order = await call<{ createOrder: { id: string } }>(
        buyer,
        `buyer ${i}: createOrder`,
        CREATE_ORDER,
        {
          ticketId: listed.listTicket.id,
        },
      );
      if (!order) continue;
      const orderId = order.createOrder.id;
      orders.push({ buyer, id: orderId });
      if (!(await call(buyer, `buyer ${i}: startPayment`, START_PAYMENT, { orderId }))) continue;
      await call(buyer, `buyer ${i}: confirmSandboxPayment`, CONFIRM_SANDBOX, { orderId });
    }
  });

  const started = Date.now();
  try {
    // Load first, so the rollout lands on requests in flight.
    await sleep(1_000);
    const codes = await Promise.all(
      SERVICES.map(async (name) => ({ name, codes: await (await system.roll(name)).exited })),
    );
    const rolledMs = Date.now() - started;
    await sleep(1_000);
    loading = false;
    await Promise.all([...readers, ...purchases]);
    console.log(
      `[rollout] ${SERVICES.length} services rolled in ${(rolledMs / 1_000).toFixed(1)} s under ${requests} requests, ` +
        `${orders.length} purchases; failed: ${failures.length}`,
      ...failures,
    );

    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(100);
    // Every old instance finished its shutdown within its budget.
    expect(codes).toEqual(
      SERVICES.map((name) => ({ name, codes: Array<number>(name === "gateway" ? 2 : 1).fill(0) })),
    );

    // Every purchase went through.
    const deadline = Date.now() + CONVERGE_MS;
    const incomplete = async () => {
      const statuses = await Promise.all(
        orders.map(async ({ buyer, id }) => (await readOrder(buyer, id))?.status),
      );
      return orders.filter((_, i) => statuses[i] !== "COMPLETE").map(({ id }) => id);
    };
    let left = await incomplete();
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(250);
      left = await incomplete();
    }
    expect(left).toEqual([]);

    // The live subscribers were told to reconnect, did (graphql-ws waits 1.3 to 4 s before it
    // tries, longer after a failed try), and still receive.
    const reconnected = Date.now() + 15_000;
    while (watchers.some((w) => !w.connected()) && Date.now() < reconnected) await sleep(100);
    expect(watchers.map((w) => w.connected())).toEqual(watchers.map(() => true));
    const after = dataOf(
      await seller.attempt<{ listTicket: { id: string } }>(LIST_TICKET, {
        input: { eventId, title: "After the rollout", price: { amount: 9_000, currency: "EUR" } },
      }),
    )?.listTicket.id;
    expect(after).toBeDefined();
    const seen = Date.now() + 5_000;
    while (watchers.some((w) => !w.received.has(after!)) && Date.now() < seen) await sleep(100);
    for (const w of watchers) {
      expect({ closes: w.closes.every((code) => code === 1012), seen: w.received.has(after!) }).toEqual({
        closes: true,
        seen: true,
      });
      expect(w.closes.length).toBeGreaterThan(0);
      expect(w.errors).toEqual([]);
    }
  } finally {
    loading = false;
    await Promise.allSettled([...readers, ...purchases]);
    await Promise.all(watchers.map((w) => w.close()));
  }
});
