import type { TestStream } from "@ticketing/shared-events/testing";
import { randomUUID } from "node:crypto";
import type { Payload } from "@ticketing/shared-events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createEvent,
  dataOf,
  FakeAuth,
  listTicket,
  openOrdersStream,
  startTickets,
  TICKET,
  UPDATE_TICKET,
  type RunningTickets,
  type TicketNode,
} from "./support.js";

let auth: FakeAuth;
let tickets: RunningTickets;
let seller: string;
let sellerId: string;
let stream: TestStream;
let eventId: string;
beforeAll(async () => {
  auth = await FakeAuth.start();
  tickets = await startTickets(auth);
  sellerId = randomUUID();
  seller = auth.token(sellerId);
  stream = await openOrdersStream();
  eventId = (await createEvent(tickets, auth.token(undefined, ["OPS"]))).id;
});
afterAll(async () => {
  await stream.close();
  await tickets.close();
  await auth.close();
});

const orderFor = (ticket: TicketNode): Payload<"ticketing.order.created"> => ({
  id: randomUUID(),
  ticketId: ticket.id,
  buyerId: randomUUID(),
  sellerId,
  total: ticket.price,
  createdAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + 60_000).toISOString(),
});

const read = async (id: string) =>
  dataOf(await tickets.graphql<{ ticket: TicketNode }>(TICKET, { variables: { id } })).ticket;

async function until(id: string, accept: (ticket: TicketNode) => boolean): Promise<TicketNode> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ticket = await read(id);
    if (accept(ticket) || Date.now() > deadline) return ticket;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until the consumer has settled every event published so far (a marker order goes through last). */
async function settled() {
  const marker = await listTicket(tickets, seller, eventId);
  await stream.publish("ticketing.order.created", orderFor(marker));
  // The consumer runs several messages at once; give the ones before the marker a moment beyond it.
  await until(marker.id, (ticket) => ticket.status === "RESERVED");
  await new Promise((resolve) => setTimeout(resolve, 300));
}

describe("order events", () => {
  it("reserve on order.created, release on order.cancelled, each once however often delivered", async () => {
    const ticket = await listTicket(tickets, seller, eventId);
    const order = orderFor(ticket);
    const created = await stream.publish("ticketing.order.created", order);
    expect(await until(ticket.id, (t) => t.status === "RESERVED")).toMatchObject({
      status: "RESERVED",
      version: 2,
    });
    await stream.redeliver(created);
    await settled();
    expect(await read(ticket.id)).toMatchObject({ status: "RESERVED", version: 2 });

    const cancelled = await stream.publish("ticketing.order.cancelled", {
      id: order.id,
      ticketId: ticket.id,
      reason: "BUYER_CANCELLED",
    });
    expect(await until(ticket.id, (t) => t.status === "AVAILABLE")).toMatchObject({
      status: "AVAILABLE",
      version: 3,
    });
    await stream.redeliver(cancelled);
    await stream.redeliver(created);
    await settled();
    expect(await read(ticket.id)).toMatchObject({ status: "AVAILABLE", version: 3 });
  });

  it("release on order.expired only when that order holds the ticket", async () => {
    const ticket = await listTicket(tickets, seller, eventId);
    const order = orderFor(ticket);
    await stream.publish("ticketing.order.expired", { id: randomUUID(), ticketId: ticket.id });
    await stream.publish("ticketing.order.created", order);
    await until(ticket.id, (t) => t.status === "RESERVED");
    await stream.publish("ticketing.order.expired", { id: randomUUID(), ticketId: ticket.id });
    await settled();
    expect(await read(ticket.id)).toMatchObject({ status: "RESERVED", version: 2 });
    await stream.publish("ticketing.order.expired", { id: order.id, ticketId: ticket.id });
    expect(await until(ticket.id, (t) => t.status === "AVAILABLE")).toMatchObject({ version: 3 });
  });

  it("sell on order.completed, once", async () => {
    const ticket = await listTicket(tickets, seller, eventId);
    const order = orderFor(ticket);
    await stream.publish("ticketing.order.created", order);
    await until(ticket.id, (t) => t.status === "RESERVED");
    const completed = await stream.publish("ticketing.order.completed", {
      id: order.id,
      ticketId: ticket.id,
      paymentId: "pay",
    });
    expect(await until(ticket.id, (t) => t.status === "SOLD")).toMatchObject({ version: 3 });
    await stream.redeliver(completed);
    await stream.publish("ticketing.order.cancelled", {
      id: order.id,
      ticketId: ticket.id,
      reason: "BUYER_CANCELLED",
    });
    await settled();
    expect(await read(ticket.id)).toMatchObject({ status: "SOLD", version: 3 });
  });

  it("an order.cancelled that overtakes its order.created leaves the ticket AVAILABLE", async () => {
    const ticket = await listTicket(tickets, seller, eventId);
    const order = orderFor(ticket);
    await stream.publish("ticketing.order.cancelled", {
      id: order.id,
      ticketId: ticket.id,
      reason: "BUYER_CANCELLED",
    });
    await settled();
    await stream.publish("ticketing.order.created", order);
    await settled();
    expect(await read(ticket.id)).toMatchObject({ status: "AVAILABLE", version: 1 });
  });

  it("an order.completed that overtakes its order.created sells the ticket once", async () => {
    const ticket = await listTicket(tickets, seller, eventId);
    const order = orderFor(ticket);
    await stream.publish("ticketing.order.completed", {
      id: order.id,
      ticketId: ticket.id,
      paymentId: "pay",
    });
    expect(await until(ticket.id, (t) => t.status === "SOLD")).toMatchObject({ version: 2 });
    await stream.publish("ticketing.order.created", order);
    await settled();
    expect(await read(ticket.id)).toMatchObject({ status: "SOLD", version: 2 });
  });

  it("reject a reservation of a ticket that is withdrawn or held by another order, once", async () => {
    const ticket = await listTicket(tickets, seller, eventId);
    const first = orderFor(ticket);
    await stream.publish("ticketing.order.created", first);
    await until(ticket.id, (t) => t.status === "RESERVED");
    const since = await stream.lastSeq();
    const second = orderFor(ticket);
    const created = await stream.publish("ticketing.order.created", second);
    await stream.redeliver(created);
    const withdrawn = await listTicket(tickets, seller, eventId);
    await tickets.graphql(`mutation ($id: ID!) { withdrawTicket(id: $id) { id } }`, {
      token: seller,
      variables: { id: withdrawn.id },
    });
    const late = orderFor(withdrawn);
    await stream.publish("ticketing.order.created", late);
    await settled();
    const rejections = await stream.since(since, "ticketing.ticket.reservation_rejected");
    expect(rejections.map((event) => event.data)).toEqual(
      expect.arrayContaining([
        { ticketId: ticket.id, orderId: second.id, reason: "UNAVAILABLE" },
        { ticketId: withdrawn.id, orderId: late.id, reason: "WITHDRAWN" },
      ]),
    );
    expect(rejections.filter((event) => event.data.orderId === second.id)).toHaveLength(1);
    expect(await read(ticket.id)).toMatchObject({ status: "RESERVED", version: 2 });
    expect(await read(withdrawn.id)).toMatchObject({ status: "WITHDRAWN", version: 2 });
  });
});

describe("a seller's edits racing a reservation", () => {
  it("50 concurrent edits and one reservation: no lost update, contiguous versions", async () => {
    const ticket = await listTicket(tickets, seller, eventId, { price: { amount: 1_000, currency: "EUR" } });
    const since = await stream.lastSeq();
    const order = orderFor(ticket);
    const edits = Array.from({ length: 50 }, (_, i) =>
      tickets.graphql<{ updateTicket: TicketNode }>(UPDATE_TICKET, {
        token: seller,
        variables: { id: ticket.id, input: { price: { amount: 2_000 + i, currency: "EUR" } } },
      }),
    );
    const reservation = stream.publish("ticketing.order.created", order);
    const results = await Promise.all(edits);
    await reservation;
    const final = await until(ticket.id, (t) => t.status === "RESERVED");
    expect(final.status).toBe("RESERVED");

    const accepted = results
      .filter((result) => result.data?.updateTicket)
      .map((result) => result.data!.updateTicket);
    const refused = results.filter((result) => !result.data?.updateTicket);
    expect(refused.every((result) => result.errors?.[0]?.extensions?.code === "CONFLICT")).toBe(true);
    expect(accepted.length + refused.length).toBe(50);
    // Every accepted edit got a version of its own, and the reservation one more after them.
    const versions = accepted.map((t) => t.version).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: accepted.length }, (_, i) => i + 2));
    expect(final.version).toBe(accepted.length + 2);
    const lastEdit = accepted.find((t) => t.version === accepted.length + 1);
    expect(final.price).toEqual(lastEdit?.price ?? { amount: 1_000, currency: "EUR" });

    // The stream holds the same contiguous history, each event the full state at its version.
    const deadline = Date.now() + 10_000;
    let updates = await stream.since(since, "ticketing.ticket.updated");
    while (
      updates.filter((e) => e.aggregateId === ticket.id).length < final.version - 1 &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      updates = await stream.since(since, "ticketing.ticket.updated");
    }
    const history = updates.filter((e) => e.aggregateId === ticket.id).sort((a, b) => a.version - b.version);
    expect(history.map((e) => e.version)).toEqual(Array.from({ length: final.version - 1 }, (_, i) => i + 2));
    expect(history.map((e) => e.data.version)).toEqual(history.map((e) => e.version));
    const reserve = history.at(-1);
    expect(reserve?.data).toMatchObject({ status: "RESERVED", orderId: order.id, price: final.price });
    for (const edit of accepted) {
      expect(history.find((e) => e.version === edit.version)?.data).toMatchObject({
        status: "AVAILABLE",
        price: edit.price,
      });
    }
  });
});
