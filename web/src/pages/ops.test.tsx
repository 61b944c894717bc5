import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { useReducer } from "react";
import { afterEach, expect, it } from "vitest";
import { emptyFeed, feedReducer, windowAt, type Minute, type OpsEvent } from "../live/opsFeed.js";
import { BacklogAlarm, Chart, Feed, Revenue } from "./Ops.js";

afterEach(cleanup);

const NOW = Date.parse("2030-01-01T10:30:20.000Z");

function minutesWith(changes: Record<number, Partial<Minute>>): Minute[] {
  return windowAt([], NOW).map((minute, index) => ({ ...minute, ...changes[index] }));
}

const opsEvent = (cursor: string, subject: string, description: string): OpsEvent => ({
  __typename: "OpsEvent",
  cursor,
  subject,
  kind: subject.split(".")[1]!,
  occurredAt: "2030-01-01T10:30:00.000Z",
  description,
  eventId: null,
  ticketId: null,
  orderId: null,
  amount: null,
});

it("draws the hour with a time axis, a count axis, axis titles and a legend with totals", () => {
  const { container } = render(
    <Chart minutes={minutesWith({ 50: { orders: 5 }, 59: { orders: 1, sales: 2 } })} />,
  );
  const labels = [...container.querySelectorAll(".axes text")].map((text) => text.textContent);
  expect(labels).toContain("Time (minute started)");
  expect(labels).toContain("Events per minute");
  // The count axis reaches past the largest minute (5) in round steps; a time label every 10 minutes.
  expect(labels).toEqual(expect.arrayContaining(["0", "2", "4", "6"]));
  const times = container.querySelectorAll(".axes g.tick text");
  expect(times.length).toBeGreaterThanOrEqual(6 + 2);
  expect(container.querySelector('[data-series="orders"]')?.textContent).toBe("6");
  expect(container.querySelector('[data-series="sales"]')?.textContent).toBe("2");
  expect(screen.getByText(/Expiries/)).toBeTruthy();
  expect(container.querySelectorAll(".series polyline")).toHaveLength(5);
});

it("shows revenue per currency, each in its own chart, never summed across currencies", () => {
  const { container } = render(
    <Revenue
      minutes={minutesWith({ 10: { revenue: { EUR: 1_050 } }, 20: { revenue: { EUR: 950, USD: 2_000 } } })}
    />,
  );
  expect(container.querySelectorAll("figure.revenue")).toHaveLength(2);
  expect(container.querySelector('[data-revenue="EUR"]')?.textContent).toMatch(/20[.,]00/);
  expect(container.querySelector('[data-revenue="USD"]')?.textContent).toMatch(/20[.,]00/);
  expect(screen.getByText("EUR per minute")).toBeTruthy();
  expect(screen.getByText("USD per minute")).toBeTruthy();
});

function FeedHarness({ events }: { events: OpsEvent[] }) {
  const [state, dispatch] = useReducer(feedReducer, emptyFeed);
  return (
    <>
      {events.map((event) => (
        <button key={event.cursor} type="button" onClick={() => dispatch({ type: "arrived", event })}>
          arrive {event.cursor}
        </button>
      ))}
      <Feed
        events={state.shown}
        queued={state.queued.length}
        paused={state.paused}
        onPause={() => dispatch({ type: "pause" })}
        onResume={() => dispatch({ type: "resume" })}
      />
    </>
  );
}

it("shows the feed in words, filters it by kind, and holds new events while paused", () => {
  render(
    <FeedHarness
      events={[
        opsEvent("1", "ticketing.order.created", "Order o1 placed for ticket t1 of event e1: EUR 30.00"),
        opsEvent("2", "ticketing.payment.succeeded", "Payment p1 succeeded for order o1: EUR 30.00"),
        opsEvent("3", "ticketing.order.expired", "Order o2 expired unpaid; ticket t2 released"),
      ]}
    />,
  );
  fireEvent.click(screen.getByText("arrive 1"));
  fireEvent.click(screen.getByText("arrive 2"));
  const feed = () => within(screen.getByRole("list"));
  expect(feed().getByText(/Order o1 placed for ticket t1 of event e1/)).toBeTruthy();

  fireEvent.click(screen.getByLabelText("Payments"));
  expect(feed().queryByText(/Payment p1/)).toBeNull();
  expect(feed().getByText(/Order o1 placed/)).toBeTruthy();
  fireEvent.click(screen.getByLabelText("Payments"));
  expect(feed().getByText(/Payment p1/)).toBeTruthy();

  fireEvent.click(screen.getByRole("button", { name: "Pause" }));
  fireEvent.click(screen.getByText("arrive 3"));
  expect(screen.getByRole("status").textContent).toBe("Paused: 1 new event is waiting.");
  expect(feed().queryByText(/Order o2 expired/)).toBeNull();
  fireEvent.click(screen.getByRole("button", { name: "Resume (1 new)" }));
  expect(feed().getByText(/Order o2 expired/)).toBeTruthy();
  // Newest first.
  expect(feed().getAllByRole("listitem")[0]?.textContent).toContain("Order o2 expired");
});

it("sounds the backlog alarm only when a consumer is behind", () => {
  const consumer = (name: string, pending: number) => ({
    __typename: "OpsConsumer" as const,
    name,
    pending,
    ackPending: 0,
    redelivered: 0,
    behind: pending >= 100,
  });
  const { rerender } = render(
    <BacklogAlarm
      backlog={{ consumers: [consumer("orders-expiration", 3)], threshold: 100, readAt: null }}
    />,
  );
  expect(screen.queryByRole("alert")).toBeNull();
  rerender(
    <BacklogAlarm
      backlog={{ consumers: [consumer("orders-expiration", 250)], threshold: 100, readAt: null }}
    />,
  );
  expect(screen.getByRole("alert").textContent).toContain("orders-expiration has 250 events waiting");
});
