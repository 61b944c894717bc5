import { expect, it } from "vitest";
import {
  behind,
  countAxis,
  countEvent,
  currenciesOf,
  emptyFeed,
  feedReducer,
  fromServer,
  windowAt,
  type OpsConsumer,
  type OpsEvent,
} from "./opsFeed.js";

const event = (
  subject: string,
  occurredAt: string,
  cursor: string,
  amount: { amount: number; currency: string } | null = null,
): OpsEvent => ({
  __typename: "OpsEvent",
  cursor,
  subject,
  kind: subject.split(".")[1]!,
  occurredAt,
  description: `${subject} #${cursor}`,
  eventId: null,
  ticketId: null,
  orderId: null,
  amount: amount && { __typename: "Money", ...amount },
});

const serverMinute = (at: string, orders: number, revenue: { amount: number; currency: string }[] = []) => ({
  __typename: "OpsMinute" as const,
  at,
  orders,
  sales: revenue.length,
  expiries: 0,
  cancellations: 0,
  refunds: 0,
  revenue: revenue.map((money) => ({ __typename: "Money" as const, ...money })),
});

it("starts from the server's minutes and adds live events to theirs, each to its own count", () => {
  let minutes = fromServer([
    serverMinute("2030-01-01T10:04:00.000Z", 5, [{ amount: 1_000, currency: "EUR" }]),
    serverMinute("2030-01-01T10:05:00.000Z", 0),
  ]);
  minutes = countEvent(minutes, event("ticketing.order.created", "2030-01-01T10:05:20.000Z", "7"));
  minutes = countEvent(
    minutes,
    event("ticketing.order.completed", "2030-01-01T10:05:30.000Z", "8", { amount: 2_500, currency: "USD" }),
  );
  minutes = countEvent(minutes, event("ticketing.order.expired", "2030-01-01T10:05:40.000Z", "9"));
  minutes = countEvent(minutes, event("ticketing.order.cancelled", "2030-01-01T10:05:41.000Z", "10"));
  minutes = countEvent(minutes, event("ticketing.payment.refunded", "2030-01-01T10:05:42.000Z", "11"));
  minutes = countEvent(minutes, event("ticketing.ticket.updated", "2030-01-01T10:05:43.000Z", "12"));
  // A minute that started after the page loaded.
  minutes = countEvent(minutes, event("ticketing.order.created", "2030-01-01T10:06:01.000Z", "13"));

  const window = windowAt(minutes, Date.parse("2030-01-01T10:06:30.000Z"), 4);
  expect(window.map((minute) => new Date(minute.at).toISOString())).toEqual([
    "2030-01-01T10:03:00.000Z",
    "2030-01-01T10:04:00.000Z",
    "2030-01-01T10:05:00.000Z",
    "2030-01-01T10:06:00.000Z",
  ]);
  expect(
    window.map(({ orders, sales, expiries, cancellations, refunds }) => [
      orders,
      sales,
      expiries,
      cancellations,
      refunds,
    ]),
  ).toEqual([
    [0, 0, 0, 0, 0],
    [5, 1, 0, 0, 0],
    [1, 1, 1, 1, 1],
    [1, 0, 0, 0, 0],
  ]);
  // Revenue stays per currency: EUR and USD are never added.
  expect(window.map((minute) => minute.revenue)).toEqual([{}, { EUR: 1_000 }, { USD: 2_500 }, {}]);
  expect(currenciesOf(window)).toEqual(["EUR", "USD"]);
});

it("gives the count axis round ticks that reach the largest value", () => {
  expect(countAxis(0)).toEqual({ top: 1, ticks: [0, 1] });
  expect(countAxis(3)).toEqual({ top: 3, ticks: [0, 1, 2, 3] });
  expect(countAxis(7)).toEqual({ top: 8, ticks: [0, 2, 4, 6, 8] });
  const large = countAxis(1_234);
  expect(large.top).toBeGreaterThanOrEqual(1_234);
  expect(large.ticks.length).toBeLessThanOrEqual(6);
});

it("queues what arrives while paused, counts it, and shows it on resume in order", () => {
  let feed = feedReducer(emptyFeed, {
    type: "arrived",
    event: event("ticketing.order.created", "2030-01-01T10:00:00Z", "1"),
  });
  feed = feedReducer(feed, { type: "pause" });
  feed = feedReducer(feed, {
    type: "arrived",
    event: event("ticketing.order.created", "2030-01-01T10:00:01Z", "2"),
  });
  feed = feedReducer(feed, {
    type: "arrived",
    event: event("ticketing.order.expired", "2030-01-01T10:00:02Z", "3"),
  });
  expect(feed.shown.map((e) => e.cursor)).toEqual(["1"]);
  expect(feed.queued).toHaveLength(2);
  feed = feedReducer(feed, { type: "resume" });
  expect(feed).toMatchObject({ paused: false, queued: [] });
  expect(feed.shown.map((e) => e.cursor)).toEqual(["1", "2", "3"]);
});

it("names the consumers that are behind", () => {
  const consumer = (name: string, pending: number, late: boolean): OpsConsumer => ({
    __typename: "OpsConsumer",
    name,
    pending,
    ackPending: 0,
    redelivered: 0,
    behind: late,
  });
  expect(
    behind([consumer("orders-tickets", 3, false), consumer("orders-expiration", 500, true)]).map(
      (c) => c.name,
    ),
  ).toEqual(["orders-expiration"]);
});
