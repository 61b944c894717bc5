// The ops dashboard's data on the gateway's WebSocket: the last hour counted from the stream (also
// what happened before the gateway started), the feed in words without personal data, the
// consumers' backlog, and who may ask what; on real servers.
import { randomUUID } from "node:crypto";
import { AckPolicy, DeliverPolicy, jetstreamManager } from "@nats-io/jetstream";
import { STREAM } from "@ticketing/shared-events";
import { TestStream } from "@ticketing/shared-events/testing";
import { eventually, infra, NATS_SERVICES } from "@ticketing/testkit";
import { createClient, type Client, type ExecutionResult } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { DURABLE_CONSUMERS } from "../src/live/activity.js";
import { type Browser, type System, signedUp, startSystem } from "./support.js";

const ACTIVITY = /* GraphQL */ `
  query Activity($minutes: Int) {
    opsActivity(minutes: $minutes) {
      cursor
      minutes {
        at
        orders
        sales
        expiries
        cancellations
        refunds
        revenue {
          amount
          currency
        }
      }
      consumers {
        name
        pending
        ackPending
        redelivered
        behind
      }
      consumersReadAt
      backlogThreshold
    }
  }
`;
const OPS_FEED = /* GraphQL */ `
  subscription Ops($since: String) {
    opsFeed(since: $since) {
      cursor
      subject
      kind
      occurredAt
      description
      eventId
      ticketId
      orderId
      amount {
        amount
        currency
      }
      data
    }
  }
`;

interface Minute {
  at: string;
  orders: number;
  sales: number;
  expiries: number;
  cancellations: number;
  refunds: number;
  revenue: { amount: number; currency: string }[];
}
interface Activity {
  cursor: string;
  minutes: Minute[];
  consumers: { name: string; pending: number; ackPending: number; redelivered: number; behind: boolean }[];
  consumersReadAt: string | null;
  backlogThreshold: number;
}
interface OpsEvent {
  cursor: string;
  subject: string;
  kind: string;
  description: string;
  eventId: string | null;
  ticketId: string | null;
  orderId: string | null;
  amount: { amount: number; currency: string } | null;
  data: Record<string, unknown>;
}

function wsClient(system: System, browser?: Browser): Client {
  const headers = browser?.cookieHeader() ?? {};
  class CookieSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  }
  return createClient({
    url: `${system.url.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: CookieSocket,
    retryAttempts: 0,
    lazy: true,
  });
}

/** One query over the socket: its single result, or the errors it was refused with. */
function ask<T>(client: Client, query: string, variables: Record<string, unknown> = {}) {
  return new Promise<ExecutionResult<T>>((resolve, reject) => {
    let result: ExecutionResult<T> | undefined;
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => (result = value as ExecutionResult<T>),
        error: (error) =>
          Array.isArray(error) ? resolve({ errors: error }) : reject(new Error("the socket closed")),
        complete: () => (result ? resolve(result) : reject(new Error("no result"))),
      },
    );
  });
}

const codeOf = (result: ExecutionResult<unknown>) => result.errors?.[0]?.extensions?.code;
const total = (activity: Activity, key: "orders" | "sales" | "expiries" | "cancellations" | "refunds") =>
  activity.minutes.reduce((sum, minute) => sum + minute[key], 0);
const revenueIn = (activity: Activity, currency: string) =>
  activity.minutes
    .flatMap((minute) => minute.revenue)
    .filter((money) => money.currency === currency)
    .reduce((sum, money) => sum + money.amount, 0);

let system: System;
let stream: TestStream;
let ops: Browser;
let fan: Browser;

// Amounts in XTS (the ISO code "for testing"): no other test on the shared stream uses it, so its
// revenue is this file's alone.
const xts = (amount: number) => ({ amount, currency: "XTS" });

/** An order's life on the stream, as the services would publish it. */
async function order(outcome: "created" | "sold" | "expired" | "cancelled" | "refunded", amount = 1_000) {
  const eventId = randomUUID();
  const ticketId = randomUUID();
  const orderId = randomUUID();
  const sellerId = `seller-${randomUUID()}`;
  await stream.publish("ticketing.ticket.created", {
    id: ticketId,
    eventId,
    sellerId,
    title: "Row A",
    section: null,
    price: xts(amount),
    status: "AVAILABLE",
    orderId: null,
    version: 1,
  });
  const now = new Date();
  await stream.publish("ticketing.order.created", {
    id: orderId,
    ticketId,
    buyerId: `buyer-${randomUUID()}`,
    sellerId,
    total: xts(amount),
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + 600_000).toISOString(),
  });
  const paymentId = randomUUID();
  if (outcome === "sold" || outcome === "refunded") {
    await stream.publish("ticketing.payment.succeeded", {
      id: paymentId,
      orderId,
      paymentIntentId: `pi_${randomUUID()}`,
      amount: xts(amount),
    });
  }
  if (outcome === "sold") {
    await stream.publish("ticketing.order.completed", { id: orderId, ticketId, paymentId });
  }
  if (outcome === "expired" || outcome === "refunded") {
    await stream.publish("ticketing.order.expired", { id: orderId, ticketId });
  }
  if (outcome === "refunded") {
    await stream.publish("ticketing.payment.refunded", {
      id: paymentId,
      orderId,
      paymentIntentId: `pi_${randomUUID()}`,
      refundId: `re_${randomUUID()}`,
      amount: xts(amount),
    });
  }
  if (outcome === "cancelled") {
    await stream.publish("ticketing.order.cancelled", { id: orderId, ticketId, reason: "BUYER_CANCELLED" });
  }
  return { eventId, ticketId, orderId };
}

beforeAll(async () => {
  const opsEmail = `ops-${randomUUID()}@example.com`;
  stream = await TestStream.open(infra().natsUrl);
  system = await startSystem({ OPS_EMAILS: opsEmail });
  ops = await signedUp(system, opsEmail, "Ops");
  fan = await signedUp(system, `fan-${randomUUID()}@example.com`, "Fan");
});

afterAll(async () => {
  await system?.stop();
  await stream?.close();
});

describe("opsActivity", () => {
  it("counts, after a restart, what happened on the stream before the gateway started", async () => {
    const client = wsClient(system, ops);
    const before = (await ask<{ opsActivity: Activity }>(client, ACTIVITY)).data!.opsActivity;
    await client.dispose();
    expect(before.minutes).toHaveLength(60);

    // Five orders, two sold, one expired, one cancelled, one refunded; then a new gateway, which
    // knows of them only from the stream.
    await order("sold", 1_500);
    await order("sold", 2_500);
    await order("expired");
    await order("cancelled");
    await order("refunded", 4_000);
    const gateway = await system.restartGateway();

    const after = wsClient(system, ops);
    const activity = (await ask<{ opsActivity: Activity }>(after, ACTIVITY)).data!.opsActivity;
    expect(activity.minutes).toHaveLength(60);
    expect(Date.parse(activity.minutes.at(-1)!.at)).toBe(Math.floor(Date.now() / 60_000) * 60_000);
    // Other tests share the stream: at least ours; the XTS revenue is ours alone, and exact.
    expect(total(activity, "orders") - total(before, "orders")).toBeGreaterThanOrEqual(5);
    expect(total(activity, "sales") - total(before, "sales")).toBeGreaterThanOrEqual(2);
    expect(total(activity, "expiries") - total(before, "expiries")).toBeGreaterThanOrEqual(2);
    expect(total(activity, "cancellations") - total(before, "cancellations")).toBeGreaterThanOrEqual(1);
    expect(total(activity, "refunds") - total(before, "refunds")).toBeGreaterThanOrEqual(1);
    expect(revenueIn(activity, "XTS") - revenueIn(before, "XTS")).toBe(4_000);
    // Currencies are never added together: one entry per currency in a minute.
    for (const minute of activity.minutes) {
      const currencies = minute.revenue.map((money) => money.currency);
      expect(new Set(currencies).size).toBe(currencies.length);
    }

    // Following on from the cursor gives only what came after it: nothing counted twice.
    const feed: OpsEvent[] = [];
    after.subscribe<{ opsFeed: OpsEvent }>(
      { query: OPS_FEED, variables: { since: activity.cursor } },
      {
        next: (result) => result.data && feed.push(result.data.opsFeed),
        error: () => undefined,
        complete: () => undefined,
      },
    );
    const next = await order("created");
    const arrived = await eventually(
      () => Promise.resolve(feed.find((event) => event.orderId === next.orderId && event.kind === "order")),
      (event) => event !== undefined,
    );
    expect(arrived!.subject).toBe("ticketing.order.created");
    expect(feed.every((event) => Number(event.cursor) > Number(activity.cursor))).toBe(true);
    const later = (await ask<{ opsActivity: Activity }>(after, ACTIVITY)).data!.opsActivity;
    expect(total(later, "orders")).toBeGreaterThanOrEqual(total(activity, "orders") + 1);
    await after.dispose();
    expect(gateway.live).toBeDefined();
  });

  it("is refused to the anonymous (UNAUTHENTICATED) and to fans (FORBIDDEN)", async () => {
    const anonymous = wsClient(system);
    expect(codeOf(await ask(anonymous, ACTIVITY))).toBe("UNAUTHENTICATED");
    await anonymous.dispose();
    const client = wsClient(system, fan);
    expect(codeOf(await ask(client, ACTIVITY))).toBe("FORBIDDEN");
    await client.dispose();
  });

  it("takes 1 to 60 minutes and says which input is wrong otherwise", async () => {
    const client = wsClient(system, ops);
    for (const minutes of [0, 61, -5]) {
      const result = await ask(client, ACTIVITY, { minutes });
      expect(codeOf(result)).toBe("BAD_USER_INPUT");
      expect(result.errors?.[0]?.extensions?.field).toBe("minutes");
      expect(result.errors?.[0]?.message).toContain("1 to 60");
    }
    const notANumber = await ask(client, ACTIVITY, { minutes: "ten" });
    expect(codeOf(notANumber)).toBe("BAD_USER_INPUT");
    const ten = await ask<{ opsActivity: Activity }>(client, ACTIVITY, { minutes: 10 });
    expect(ten.data?.opsActivity.minutes).toHaveLength(10);
    // Queries of the supergraph still go over HTTP.
    const mixed = await ask(client, `query { opsActivity { cursor } me { id } }`);
    expect(codeOf(mixed)).toBe("BAD_REQUEST");
    await client.dispose();
  });

  it("watches every durable consumer the services' NATS users declare", () => {
    const declared = Object.values(NATS_SERVICES).flatMap((service) => [...service.durables]);
    expect([...DURABLE_CONSUMERS].sort()).toEqual(declared.sort());
  });

  it("shows a durable consumer's backlog, behind once it passes the threshold", async () => {
    const jsm = await jetstreamManager(system.nc);
    // A durable of the product's that nobody reads, on this test's stream.
    await jsm.consumers.add(STREAM, {
      durable_name: "orders-expiration",
      ack_policy: AckPolicy.Explicit,
      filter_subject: "ticketing.expiration.due",
      deliver_policy: DeliverPolicy.New,
    });
    try {
      for (let i = 0; i < 120; i++)
        await stream.publish("ticketing.expiration.due", { orderId: randomUUID() });
      const gateway = await system.restartGateway();
      await gateway.live!.activity.refreshBacklog();
      const client = wsClient(system, ops);
      const activity = (await ask<{ opsActivity: Activity }>(client, ACTIVITY, { minutes: 1 })).data!
        .opsActivity;
      await client.dispose();
      const backlog = activity.consumers.find((consumer) => consumer.name === "orders-expiration");
      expect(backlog).toMatchObject({ ackPending: 0, redelivered: 0, behind: true });
      expect(backlog!.pending).toBeGreaterThanOrEqual(120);
      expect(activity.backlogThreshold).toBe(100);
      expect(activity.consumersReadAt).not.toBeNull();
    } finally {
      await jsm.consumers.delete(STREAM, "orders-expiration");
    }
  });
});

describe("opsFeed", () => {
  it("describes each event in words and sends no email, name or user id", async () => {
    const client = wsClient(system, ops);
    const start = (await ask<{ opsActivity: Activity }>(client, ACTIVITY, { minutes: 1 })).data!.opsActivity;
    const feed: OpsEvent[] = [];
    client.subscribe<{ opsFeed: OpsEvent }>(
      { query: OPS_FEED, variables: { since: start.cursor } },
      {
        next: (result) => result.data && feed.push(result.data.opsFeed),
        error: () => undefined,
        complete: () => undefined,
      },
    );
    const email = `private-${randomUUID()}@example.com`;
    const name = `Private ${randomUUID()}`;
    const userId = `user-${randomUUID()}`;
    await stream.publish("ticketing.user.registered", {
      id: userId,
      email,
      displayName: name,
      roles: ["USER"],
    });
    await stream.publish("ticketing.session.started", {
      sessionId: randomUUID(),
      userId,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const sold = await order("sold", 1_234);
    await eventually(
      () => Promise.resolve(feed.filter((event) => event.orderId === sold.orderId)),
      (events) => events.some((event) => event.subject === "ticketing.order.completed"),
    );
    const text = JSON.stringify(feed);
    expect(text).not.toContain(email);
    expect(text).not.toContain(name);
    expect(text).not.toContain(userId);
    expect(text).not.toMatch(/buyer-|seller-/);
    expect(text).not.toMatch(/"(email|displayName|buyerId|sellerId|userId|sessionId)"/);

    const signUp = feed.find((event) => event.subject === "ticketing.user.registered")!;
    expect(signUp.description).toBe("A user signed up");
    const placed = feed.find(
      (event) => event.subject === "ticketing.order.created" && event.orderId === sold.orderId,
    )!;
    expect(placed).toMatchObject({ kind: "order", ticketId: sold.ticketId, eventId: sold.eventId });
    expect(placed.amount).toEqual(xts(1_234));
    expect(placed.description).toContain(
      `Order ${sold.orderId} placed for ticket ${sold.ticketId} of event ${sold.eventId}`,
    );
    expect(placed.description).toContain("XTS 12.34");
    const sale = feed.find(
      (event) => event.subject === "ticketing.order.completed" && event.orderId === sold.orderId,
    )!;
    expect(sale.description).toMatch(/^Sale: order .* paid XTS 12\.34/);
    expect(sale.amount).toEqual(xts(1_234));
    await client.dispose();
  });
});
