// How orders end: payment, cancellation and expiry racing; events delivered twice or early;
// the sweeper; tickets' rejection.
import { randomUUID } from "node:crypto";
import type { Envelope } from "@ticketing/shared-events";
import type { TestStream } from "@ticketing/shared-events/testing";
import { eventually } from "@ticketing/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CANCEL_ORDER,
  codeOf,
  CREATE_ORDER,
  dataOf,
  FakeAuth,
  listTicket,
  openStream,
  ORDER,
  startOrders,
  type OrderNode,
  type RunningOrders,
} from "./support.js";
import type { OrderSubject } from "../src/domain/orders.js";

const ENDINGS = [
  "ticketing.order.completed",
  "ticketing.order.cancelled",
  "ticketing.order.expired",
] as const;

let auth: FakeAuth;
let stream: TestStream;
/** Holds of 1 s and no sweeper: expiry happens only when `expiration.due` says so. */
let orders: RunningOrders;

beforeAll(async () => {
  auth = await FakeAuth.start();
  stream = await openStream();
  orders = await startOrders(auth, { ORDER_HOLD_SECONDS: "1", ORDER_SWEEP_SECONDS: "3600" });
});

afterAll(async () => {
  await orders?.close();
  await stream?.close();
  await auth?.close();
});

async function placeOrder(service: RunningOrders = orders) {
  const ticket = await listTicket(stream, service, auth);
  const buyer = auth.token();
  const created = dataOf(
    await service.graphql<{ createOrder: OrderNode }>(CREATE_ORDER, {
      variables: { ticketId: ticket.id },
      token: buyer,
    }),
  ).createOrder;
  return { ticket, buyer, order: created };
}

const readOrder = (id: string, token: string, service: RunningOrders = orders) =>
  service
    .graphql<{ order: OrderNode }>(ORDER, { variables: { id }, token })
    .then((result) => dataOf(result).order);

function paymentSucceeded(order: OrderNode, paymentId = randomUUID(), amount = order.total) {
  return stream.publish(
    "ticketing.payment.succeeded",
    { id: paymentId, orderId: order.id, paymentIntentId: `pi_${paymentId}`, amount },
    { aggregateId: paymentId, version: 1 },
  );
}

const expirationDue = (orderId: string) =>
  stream.publish("ticketing.expiration.due", { orderId }, { aggregateId: orderId, version: 0 });

/** The order's events of the given subjects on the stream since `since`. */
async function eventsOf<S extends OrderSubject>(since: number, orderId: string, subjects: readonly S[]) {
  const all: Envelope<S>[] = [];
  for (const subject of subjects) all.push(...(await stream.since(since, subject)));
  return all.filter((event) => event.data.id === orderId);
}

describe("an order ends exactly one way", () => {
  it("when payment, expiry and cancellation race, 20 times over", async () => {
    for (let round = 0; round < 20; round++) {
      const since = await stream.lastSeq();
      const { buyer, order } = await placeOrder();
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, Date.parse(order.expiresAt) - Date.now())),
      );
      const [cancel] = await Promise.all([
        orders.graphql<{ cancelOrder: OrderNode }>(CANCEL_ORDER, {
          variables: { id: order.id },
          token: buyer,
        }),
        paymentSucceeded(order),
        expirationDue(order.id),
      ]);
      const final = await eventually(
        () => readOrder(order.id, buyer),
        (current) => current.status !== "AWAITING_PAYMENT",
      );
      expect(cancel.errors ? codeOf(cancel) : "CANCELLED").toBe(
        final.status === "CANCELLED" ? "CANCELLED" : "CONFLICT",
      );

      // Exactly one ending on the stream; a payment that lost is refunded, once.
      const refunds = final.status === "COMPLETE" ? 0 : 1;
      const events = await eventually(
        () => eventsOf(since, order.id, [...ENDINGS, "ticketing.order.refund_required"]),
        (found) => found.length >= 1 + refunds,
      );
      expect(events.filter((event) => (ENDINGS as readonly string[]).includes(event.subject))).toHaveLength(
        1,
      );
      expect(events.filter((event) => event.subject === "ticketing.order.refund_required")).toHaveLength(
        refunds,
      );
      expect((await readOrder(order.id, buyer)).version).toBe(2 + refunds);
    }
  }, 300_000);
});

describe("payments", () => {
  it("complete an order awaiting payment once, however often the event is delivered", async () => {
    const since = await stream.lastSeq();
    const { buyer, order } = await placeOrder();
    const payment = await paymentSucceeded(order);
    await stream.redeliver(payment);
    const final = await eventually(
      () => readOrder(order.id, buyer),
      (current) => current.status === "COMPLETE",
    );
    expect(final.status).toBe("COMPLETE");
    await stream.redeliver(payment);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const events = await eventsOf(since, order.id, [
      "ticketing.order.completed",
      "ticketing.order.refund_required",
    ]);
    expect(events.map((event) => event.subject)).toEqual(["ticketing.order.completed"]);
    expect(events[0]?.data).toEqual({ id: order.id, ticketId: order.ticket.id, paymentId: payment.data.id });
  });

  it("of the wrong amount, or a second payment, are refunded rather than completing the order", async () => {
    const since = await stream.lastSeq();
    const { buyer, order } = await placeOrder();
    const short = await paymentSucceeded(order, randomUUID(), {
      amount: order.total.amount - 1,
      currency: "EUR",
    });
    const refund = await eventually(
      () => eventsOf(since, order.id, ["ticketing.order.refund_required"]),
      (found) => found.length === 1,
    );
    expect(refund[0]?.data).toMatchObject({ paymentId: short.data.id });
    expect((await readOrder(order.id, buyer)).status).toBe("AWAITING_PAYMENT");

    await paymentSucceeded(order);
    await eventually(
      () => readOrder(order.id, buyer),
      (current) => current.status === "COMPLETE",
    );
    const second = await paymentSucceeded(order);
    const refunds = await eventually(
      () => eventsOf(since, order.id, ["ticketing.order.refund_required"]),
      (found) => found.length === 2,
    );
    expect(refunds.map((event) => event.data.paymentId)).toEqual([short.data.id, second.data.id]);
  });
});

describe("expiry", () => {
  it("expires an order on expiration.due once, and waits when the event comes too early", async () => {
    const long = await startOrders(auth, { ORDER_HOLD_SECONDS: "3", ORDER_SWEEP_SECONDS: "3600" });
    try {
      const since = await stream.lastSeq();
      const { buyer, order } = await placeOrder(long);
      const due = await expirationDue(order.id);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await readOrder(order.id, buyer, long)).status).toBe("AWAITING_PAYMENT");
      await stream.redeliver(due);
      const final = await eventually(
        () => readOrder(order.id, buyer, long),
        (current) => current.status === "EXPIRED",
      );
      expect(final.status).toBe("EXPIRED");
      expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(order.expiresAt) - 1_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await eventsOf(since, order.id, ["ticketing.order.expired"])).toHaveLength(1);
    } finally {
      await long.close();
    }
  });

  it("is also done by the sweeper when no expiration.due ever comes", async () => {
    const swept = await startOrders(auth, { ORDER_HOLD_SECONDS: "1", ORDER_SWEEP_SECONDS: "0.2" });
    try {
      const { buyer, order } = await placeOrder(swept);
      const final = await eventually(
        () => readOrder(order.id, buyer, swept),
        (current) => current.status === "EXPIRED",
      );
      expect(final.status).toBe("EXPIRED");
      expect(Date.parse(final.expiresAt)).toBeLessThanOrEqual(Date.now());
    } finally {
      await swept.close();
    }
  });
});

describe("tickets' rejection", () => {
  it("cancels the order when the ticket was withdrawn before tickets could reserve it", async () => {
    const since = await stream.lastSeq();
    const { ticket, buyer, order } = await placeOrder();
    const rejection = await stream.publish(
      "ticketing.ticket.reservation_rejected",
      { ticketId: ticket.id, orderId: order.id, reason: "WITHDRAWN" },
      { aggregateId: ticket.id, id: `reject:${order.id}`, version: 0 },
    );
    await stream.redeliver(rejection);
    const final = await eventually(
      () => readOrder(order.id, buyer),
      (current) => current.status === "CANCELLED",
    );
    expect(final.status).toBe("CANCELLED");
    const events = await eventually(
      () => eventsOf(since, order.id, ["ticketing.order.cancelled"]),
      (found) => found.length > 0,
    );
    expect(events.map((event) => event.data)).toEqual([
      { id: order.id, ticketId: ticket.id, reason: "TICKET_UNAVAILABLE" },
    ]);
  });
});

describe("the tickets on sale", () => {
  it("hold a ticket's newest version, also when its versions arrive out of order or twice", async () => {
    const ticket = await listTicket(stream, orders, auth);
    const v2 = { ...ticket, status: "RESERVED" as const, orderId: randomUUID(), version: 2 };
    const v3 = { ...ticket, status: "WITHDRAWN" as const, orderId: null, version: 3 };
    // Each event carries the whole ticket: v3 applies at once, without waiting for v2.
    await stream.publish("ticketing.ticket.updated", v3);
    const withdrawn = await eventually(
      () => orders.graphql(CREATE_ORDER, { variables: { ticketId: ticket.id }, token: auth.token() }),
      (result) => result.errors?.[0]?.message === "This ticket is no longer for sale",
    );
    expect(withdrawn.errors?.[0]?.message).toBe("This ticket is no longer for sale");
    // The older v2, late and twice, changes nothing.
    const v2Event = await stream.publish("ticketing.ticket.updated", v2);
    await stream.redeliver(v2Event);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const still = await orders.graphql(CREATE_ORDER, {
      variables: { ticketId: ticket.id },
      token: auth.token(),
    });
    expect(still.errors?.[0]?.message).toBe("This ticket is no longer for sale");
  });
});
