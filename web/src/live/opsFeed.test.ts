import { expect, it } from "vitest";
import { perMinute, type OpsEvent } from "./opsFeed.js";

const event = (subject: string, occurredAt: string, cursor: string): OpsEvent => ({
  __typename: "OpsEvent",
  cursor,
  subject,
  occurredAt,
  data: {},
});

it("counts orders, sales and expiries per minute for the chart", () => {
  const now = Date.parse("2030-01-01T10:05:30.000Z");
  const buckets = perMinute(
    [
      event("ticketing.order.created", "2030-01-01T10:05:01.000Z", "1"),
      event("ticketing.order.created", "2030-01-01T10:05:20.000Z", "2"),
      event("ticketing.order.completed", "2030-01-01T10:04:59.000Z", "3"),
      event("ticketing.order.expired", "2030-01-01T09:00:00.000Z", "4"),
      event("ticketing.ticket.updated", "2030-01-01T10:05:02.000Z", "5"),
    ],
    now,
    5,
  );
  expect(buckets.map(({ orders, sales, expiries }) => [orders, sales, expiries])).toEqual([
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
    [0, 1, 0],
    [2, 0, 0],
  ]);
});
