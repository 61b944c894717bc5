// A subgraph's /metrics after real work: requests by operation and outcome, the events it
// published and consumed, its consumer's lag and its outbox, the process's own metrics.
import type { TestStream } from "@ticketing/shared-events/testing";
import { eventually, scrapeMetrics, type Scrape } from "@ticketing/testkit";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  codeOf,
  createEvent,
  FakeAuth,
  LIST_TICKET,
  listTicket,
  openOrdersStream,
  startTickets,
  type RunningTickets,
} from "./support.js";

let auth: FakeAuth;
let tickets: RunningTickets;
let stream: TestStream;
beforeAll(async () => {
  auth = await FakeAuth.start();
  tickets = await startTickets(auth);
  stream = await openOrdersStream();
});

afterAll(async () => {
  await stream?.close();
  await tickets?.close();
  await auth?.close();
});

const scrape = () => scrapeMetrics(`${tickets.origin}/metrics`);

describe("the tickets subgraph's /metrics", () => {
  it("counts and times requests by the schema's root field and outcome, never by the client's name", async () => {
    // The test files of this package share a process, hence a registry: what counts is what moved.
    const before = await scrape();
    const sellerId = randomUUID();
    const seller = auth.token(sellerId);
    const event = await createEvent(tickets, auth.token(undefined, ["USER", "OPS"]));
    await listTicket(tickets, seller, event.id);
    await listTicket(tickets, seller, event.id);
    const refused = await tickets.graphql(LIST_TICKET, {
      token: seller,
      variables: { input: { eventId: event.id, title: "", price: { amount: -1, currency: "EUR" } } },
    });
    expect(codeOf(refused)).toBe("BAD_USER_INPUT");
    expect((await tickets.graphql("query WhateverTheClientLikes { __typename }")).status).toBe(200);

    const after = await scrape();
    expect(after.status).toBe(200);
    expect(after.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const metrics = after.since(before);
    const ok = { operation: "listTicket", outcome: "ok" };
    expect(metrics.value("ticketing_graphql_requests_total", ok)).toBe(2);
    expect(metrics.value("ticketing_graphql_request_duration_seconds_count", ok)).toBe(2);
    expect(metrics.value("ticketing_graphql_request_duration_seconds_sum", ok)).toBeGreaterThan(0);
    expect(
      metrics.value("ticketing_graphql_requests_total", { operation: "listTicket", outcome: "client_error" }),
    ).toBe(1);
    expect(
      metrics.value("ticketing_graphql_requests_total", { operation: "createEvent", outcome: "ok" }),
    ).toBe(1);
    expect(metrics.value("ticketing_graphql_requests_total", { operation: "other", outcome: "ok" })).toBe(1);
    const operations = new Set(
      metrics.samples
        .filter((s) => s.name === "ticketing_graphql_requests_total")
        .map((s) => s.labels.operation),
    );
    expect([...operations].sort()).toEqual(["createEvent", "listTicket", "other"]);

    expect(metrics.value("ticketing_events_published_total", { subject: "ticketing.ticket.created" })).toBe(
      2,
    );
    // Published before each command answered: nothing waits in the outbox.
    expect(after.value("ticketing_outbox_pending", { log: "ticket_events" })).toBe(0);
    expect(after.value("ticketing_outbox_oldest_pending_seconds", { log: "ticket_events" })).toBe(0);
    // The process's own: event loop lag, heap.
    expect(after.value("nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
    expect(after.value("nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
  });

  it("counts the events its consumer handled and reads the consumer's lag from the server", async () => {
    const before = await scrape();
    const sellerId = randomUUID();
    const seller = auth.token(sellerId);
    const event = await createEvent(tickets, auth.token(undefined, ["USER", "OPS"]));
    const ticket = await listTicket(tickets, seller, event.id);
    await stream.publish("ticketing.order.created", {
      id: randomUUID(),
      ticketId: ticket.id,
      buyerId: randomUUID(),
      sellerId,
      total: ticket.price,
      createdAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });

    const handled = { subject: "ticketing.order.created", outcome: "ack" };
    const metrics: Scrape = await eventually(
      async () => (await scrape()).since(before),
      (m) => (m.value("ticketing_events_consumed_total", handled) ?? 0) >= 1,
    );
    const consumer = metrics.samples.find((s) => s.name === "ticketing_events_consumed_total")!.labels
      .consumer!;
    expect(consumer).toMatch(/^tickets_orders/);
    expect(
      metrics.value("ticketing_events_handling_duration_seconds_count", {
        consumer,
        subject: "ticketing.order.created",
      }),
    ).toBeGreaterThanOrEqual(1);
    const current = await scrape();
    expect(current.value("ticketing_events_consumer_pending", { consumer })).toBeGreaterThanOrEqual(0);
    expect(current.value("ticketing_events_consumer_ack_pending", { consumer })).toBeGreaterThanOrEqual(0);
    // The reservation it applied went out as an event too.
    expect(
      await eventually(
        async () =>
          (await scrape())
            .since(before)
            .value("ticketing_events_published_total", { subject: "ticketing.ticket.updated" }),
        (count) => (count ?? 0) >= 1,
      ),
    ).toBeGreaterThanOrEqual(1);
  });
});
