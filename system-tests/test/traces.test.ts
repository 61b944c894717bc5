// One purchase reads as one trace (docs/adr/0006-traces-and-metrics.md). Every deployable runs as
// its own process exporting OTLP over HTTP (http/json) to a collector this test runs; a buyer
// orders, pays (the sandbox webhook, as Stripe would call it) and the hold's job fires after the
// order completed. The spans of the createOrder trace must form one tree (one root, every parent
// present) across the gateway, orders, tickets, expiration and payments: the subgraph fetches,
// the events (orders' log and outbox, tickets' RESERVED and SOLD), expiration's job, payments'
// webhook and orders' completion.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { randomUUID } from "node:crypto";
import { startInfraServers, startSystem, type InfraServers, type System } from "@ticketing/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  CONFIRM_SANDBOX,
  CREATE_EVENT,
  CREATE_ORDER,
  LIST_TICKET,
  START_PAYMENT,
  dataOf,
  describeOutcome,
  readOrder,
  signedUp,
  type Fan,
  type Outcome,
} from "./graph.js";

interface CollectedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
}

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string };
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: {
      spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number }[];
    }[];
  }[];
}

/** An OTLP/HTTP receiver of JSON exports, keeping every span in memory. */
async function startCollector() {
  const spans: CollectedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as OtlpExport;
        for (const resourceSpans of body.resourceSpans ?? []) {
          const service =
            resourceSpans.resource?.attributes?.find((a) => a.key === "service.name")?.value.stringValue ??
            "unknown";
          for (const scope of resourceSpans.scopeSpans ?? []) {
            for (const span of scope.spans ?? []) {
              spans.push({
                service,
                traceId: span.traceId,
                spanId: span.spanId,
                parentSpanId: span.parentSpanId || undefined,
                name: span.name,
                kind: span.kind,
              });
            }
          }
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const OPS_EMAIL = `ops-${randomUUID()}@traces.example`;
const HOLD_SECONDS = 6;

let dataDir: string;
let servers: InfraServers;
let system: System;
let collector: Awaited<ReturnType<typeof startCollector>>;

beforeAll(async () => {
  collector = await startCollector();
  dataDir = await mkdtemp(join(tmpdir(), "ticketing-traces-"));
  const logDir = join(import.meta.dirname, "..", "test-results", "logs-traces");
  await rm(logDir, { recursive: true, force: true });
  servers = await startInfraServers({ dir: dataDir });
  system = await startSystem({
    infra: servers.urls,
    logDir,
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      ORDER_HOLD_SECONDS: String(HOLD_SECONDS),
      OPS_EMAILS: OPS_EMAIL,
      DEMO_CATALOG: "off",
      DEMO_ACCOUNTS: "off",
    },
  });
});

afterAll(async () => {
  await system?.stop();
  await servers?.stop();
  await collector?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function ok<T>(what: string, outcome: Outcome<T>): T {
  const data = dataOf(outcome);
  if (data === undefined) throw new Error(`${what}: ${describeOutcome(outcome)}`);
  return data;
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  ms = 20_000,
  seen: () => unknown = () => "",
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what} ${JSON.stringify(seen(), null, 1)}`);
    await sleep(200);
  }
}

it("one purchase yields one connected trace across the gateway, orders, tickets, expiration and payments", async () => {
  const ops = await signedUp(system.origin, "Ops", OPS_EMAIL);
  const seller = await signedUp(system.origin, "Sam Seller");
  const buyer: Fan = await signedUp(system.origin, "Bea Buyer");
  const event = ok(
    "createEvent",
    await ops.attempt<{ createEvent: { id: string } }>(CREATE_EVENT, {
      input: { name: "Traced", venue: "Hall", city: "Nantes", startsAt: "2031-09-01T20:00:00Z" },
    }),
  ).createEvent;
  const ticket = ok(
    "listTicket",
    await seller.attempt<{ listTicket: { id: string } }>(LIST_TICKET, {
      input: { eventId: event.id, title: "Row A", price: { amount: 5_000, currency: "EUR" } },
    }),
  ).listTicket;
  // The ticket must be known to orders before it can be ordered.
  const order = await until("createOrder", async () =>
    dataOf(await buyer.attempt<{ createOrder: { id: string } }>(CREATE_ORDER, { ticketId: ticket.id })),
  );
  const orderId = order.createOrder.id;
  ok("startPayment", await buyer.attempt(START_PAYMENT, { orderId }));
  ok("confirmSandboxPayment", await buyer.attempt(CONFIRM_SANDBOX, { orderId }));
  await until("the order COMPLETE and its ticket SOLD", async () => {
    const read = await readOrder(buyer, orderId);
    return read?.status === "COMPLETE" && read.ticket?.status === "SOLD" ? read : undefined;
  });

  const root = await until("the gateway's createOrder span", () =>
    collector.spans.find((s) => s.service === "gateway" && s.name === "mutation CreateOrder"),
  );
  const inTrace = () => collector.spans.filter((s) => s.traceId === root.traceId);
  const has = (service: string, name: string) =>
    inTrace().some((s) => s.service === service && s.name === name);
  // The hold's job runs after the hold ends (the order is complete by then: orders ignores it);
  // the services export every second.
  await until(
    "every hop of the purchase in the trace",
    () =>
      has("orders", "process ticketing.payment.succeeded") &&
      has("tickets", "process ticketing.order.completed") &&
      has("expiration", "process order-expiration expire") &&
      has("payments", "process payment_intent.succeeded")
        ? true
        : undefined,
    (HOLD_SECONDS + 20) * 1_000,
    () => inTrace().map((s) => `${s.service}: ${s.name}`),
  );
  await sleep(1_500);
  const spans = inTrace();

  // One tree: one root, the gateway's operation; every other span's parent is in the trace.
  const ids = new Set(spans.map((s) => s.spanId));
  expect(spans.filter((s) => !s.parentSpanId)).toEqual([root]);
  expect(spans.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId))).toEqual([]);

  const services = new Set(spans.map((s) => s.service));
  for (const service of ["gateway", "orders", "tickets", "expiration", "payments"]) {
    expect(services, `spans of ${service}`).toContain(service);
  }
  const names = spans.map((s) => `${s.service}: ${s.name}`);
  expect(names).toEqual(
    expect.arrayContaining([
      "gateway: fetch orders",
      "orders: mutation CreateOrder__orders__0",
      "orders: publish ticketing.order.created",
      "tickets: process ticketing.order.created",
      "expiration: process ticketing.order.created",
      "payments: process ticketing.order.created",
      "expiration: process order-expiration expire",
      "expiration: publish ticketing.expiration.due",
      "payments: process payment_intent.succeeded",
      "payments: publish ticketing.payment.succeeded",
      "orders: process ticketing.payment.succeeded",
      "orders: publish ticketing.order.completed",
      "tickets: process ticketing.order.completed",
    ]),
  );
  // The database commands of the hops, without their statements.
  expect(spans.some((s) => s.service === "orders" && s.name.startsWith("insert "))).toBe(true);
});
