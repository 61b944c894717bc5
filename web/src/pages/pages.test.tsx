import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { MockedProvider } from "@apollo/client/testing/react";
import { MemoryRouter, Route, Routes } from "react-router";
import type { ReactNode } from "react";
import type { MockLink } from "@apollo/client/testing";
import { afterEach, beforeEach, expect, it } from "vitest";

type MockedResponse = MockLink.MockedResponse;
import {
  EventDocument,
  MeDocument,
  CreateOrderDocument,
  MyOrdersDocument,
  TicketPageDocument,
} from "../gql/graphql.js";
import { liveState } from "../live/connection.js";
import { EventPage } from "./Event.js";
import { TicketPage } from "./Ticket.js";
import { remaining } from "./Order.js";
import { searchWord } from "./Sell.js";
import { matchEvents } from "../components/EventPicker.js";

beforeEach(() => liveState.set("unavailable"));
afterEach(cleanup);

const money = (amount: number) => ({ __typename: "Money" as const, amount, currency: "USD" });
const seller = { __typename: "User" as const, id: "s1", displayName: "Mara" };
const ticket = (id: string, title: string, status: "AVAILABLE" | "RESERVED" | "SOLD") => ({
  __typename: "TicketEdge" as const,
  cursor: id,
  node: {
    __typename: "Ticket" as const,
    id,
    title,
    section: null,
    status,
    version: 1,
    price: money(4500),
    seller,
  },
});

const event = {
  __typename: "Event" as const,
  id: "e1",
  name: "Night Show",
  startsAt: "2031-05-01T19:00:00.000Z",
  venue: "Hall",
  city: "Lyon",
};

function page(path: string, element: ReactNode, pattern: string, mocks: MockedResponse[]) {
  return render(
    <MockedProvider mocks={mocks}>
      <MemoryRouter initialEntries={[path]}>
        <Routes>
          <Route path={pattern} element={element} />
          <Route path="/orders/:id" element={<p>order page</p>} />
        </Routes>
      </MemoryRouter>
    </MockedProvider>,
  );
}

it("lists an event's tickets: reserved ones greyed, sold ones gone, and says it is not live", async () => {
  page("/events/e1", <EventPage />, "/events/:id", [
    {
      request: { query: EventDocument, variables: { id: "e1", first: 100 } },
      result: {
        data: {
          __typename: "Query",
          event: {
            __typename: "Event",
            id: "e1",
            name: "Night Show",
            venue: "Hall",
            city: "Lyon",
            startsAt: "2031-05-01T19:00:00.000Z",
            category: null,
            availableTickets: 1,
            tickets: {
              __typename: "TicketConnection",
              edges: [
                ticket("t1", "Front row", "AVAILABLE"),
                ticket("t2", "Balcony", "RESERVED"),
                ticket("t3", "Pit", "SOLD"),
              ],
              pageInfo: { __typename: "PageInfo", hasNextPage: false, endCursor: null },
            },
          },
        },
      },
    },
  ]);
  expect(await screen.findByRole("heading", { name: "Night Show" })).toBeTruthy();
  expect(screen.getByText("Front row", { selector: "strong" }).closest("li")?.className).toContain(
    "available",
  );
  expect(screen.getByText("Balcony", { selector: "strong" }).closest("li")?.className).toContain("reserved");
  expect(screen.queryByText("Pit")).toBeNull();
  expect(screen.getByText("(1 available)")).toBeTruthy();
  expect(screen.getAllByText("$45.00", { selector: ".money" })).toHaveLength(2);
  expect(screen.getByText(/refreshes every few seconds/)).toBeTruthy();
});

/** A signed-in buyer on the page of an available ticket t1, then the given createOrder answers. */
const buyerOnTicket = (...answers: MockedResponse["result"][]): MockedResponse[] => [
  {
    request: { query: MeDocument },
    result: {
      data: {
        __typename: "Query",
        me: { __typename: "User", id: "b1", email: "b@x.io", displayName: "Bea", roles: ["USER"] },
      },
    },
  },
  {
    request: { query: TicketPageDocument, variables: { id: "t1" } },
    result: {
      data: { __typename: "Query", ticket: { ...ticket("t1", "Front row", "AVAILABLE").node, event } },
    },
  },
  ...answers.map((result) => ({
    request: { query: CreateOrderDocument, variables: { ticketId: "t1" } },
    result,
  })),
];

it("tells a buyer who lost the race that someone else reserved the ticket first", async () => {
  page(
    "/tickets/t1",
    <TicketPage />,
    "/tickets/:id",
    buyerOnTicket({ errors: [{ message: "ticket t1 is RESERVED", extensions: { code: "CONFLICT" } }] }),
  );
  fireEvent.click(await screen.findByRole("button", { name: "Buy" }));
  expect((await screen.findByRole("alert")).textContent).toBe("Someone else reserved this ticket first.");
});

const busy = {
  errors: [{ message: "Too many requests", extensions: { code: "RATE_LIMITED", retryAfter: 1 } }],
};

it("presses Buy again by itself, after the wait the graph asked for, when the on-sale is too busy", async () => {
  const placed = {
    data: {
      __typename: "Mutation",
      createOrder: {
        __typename: "Order",
        id: "o1",
        status: "AWAITING_PAYMENT",
        expiresAt: "2031-05-01T19:15:00.000Z",
        createdAt: "2031-05-01T19:00:00.000Z",
        total: money(4500),
        ticket: { __typename: "Ticket", id: "t1", title: "Front row" },
        buyer: { __typename: "User", id: "b1" },
      },
    },
  };
  page("/tickets/t1", <TicketPage />, "/tickets/:id", buyerOnTicket(busy, placed));
  fireEvent.click(await screen.findByRole("button", { name: "Buy" }));
  const waiting = await screen.findByText(/Many fans are buying right now/);
  expect(waiting.textContent).toMatch(/We'll press Buy for you again in 1 s/);
  expect(screen.getByRole<HTMLButtonElement>("button", { name: "Trying again in 1 s…" }).disabled).toBe(true);
  expect(screen.queryByRole("alert")).toBeNull();
  expect(await screen.findByText("order page", {}, { timeout: 3_000 })).toBeTruthy();
});

it("stops pressing Buy again when the buyer asks", async () => {
  page("/tickets/t1", <TicketPage />, "/tickets/:id", buyerOnTicket(busy));
  fireEvent.click(await screen.findByRole("button", { name: "Buy" }));
  await screen.findByText(/Many fans are buying right now/);
  fireEvent.click(screen.getByRole("button", { name: "Stop trying" }));
  expect(screen.queryByText(/Many fans are buying right now/)).toBeNull();
  expect(screen.getByRole<HTMLButtonElement>("button", { name: "Buy" }).disabled).toBe(false);
  // Nothing was pressed again: the one answer mocked was the only one asked for.
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  expect(screen.queryByRole("alert")).toBeNull();
  expect(screen.getByRole("button", { name: "Buy" })).toBeTruthy();
});

it("asks an anonymous visitor to sign in before buying, and comes back after", async () => {
  page("/tickets/t1", <TicketPage />, "/tickets/:id", [
    { request: { query: MeDocument }, result: { data: { __typename: "Query", me: null } } },
    {
      request: { query: TicketPageDocument, variables: { id: "t1" } },
      result: {
        data: {
          __typename: "Query",
          ticket: {
            ...ticket("t1", "Front row", "AVAILABLE").node,
            event,
          },
        },
      },
    },
  ]);
  const link = await screen.findByRole("link", { name: "Sign in to buy" });
  expect(link.getAttribute("href")).toBe("/signin?next=%2Ftickets%2Ft1");
});

it("shows a sold ticket as sold, where it is, and offers no way to buy it", async () => {
  page("/tickets/t1", <TicketPage />, "/tickets/:id", [
    { request: { query: MeDocument }, result: { data: { __typename: "Query", me: null } } },
    {
      request: { query: TicketPageDocument, variables: { id: "t1" } },
      result: { data: { __typename: "Query", ticket: { ...ticket("t1", "Front row", "SOLD").node, event } } },
    },
  ]);
  expect(await screen.findByText("This ticket has been sold.")).toBeTruthy();
  expect(screen.getByText("Hall, Lyon")).toBeTruthy();
  expect(screen.queryByRole("link", { name: "Sign in to buy" })).toBeNull();
  expect(screen.queryByRole("button", { name: "Buy" })).toBeNull();
});

it("sends the fan who holds a ticket to their order, and keeps Buy off for everyone", async () => {
  const me = { __typename: "User" as const, id: "b1", email: "b@x.io", displayName: "Bea", roles: ["USER"] };
  page("/tickets/t1", <TicketPage />, "/tickets/:id", [
    { request: { query: MeDocument }, result: { data: { __typename: "Query", me } } },
    {
      request: { query: TicketPageDocument, variables: { id: "t1" } },
      result: {
        data: { __typename: "Query", ticket: { ...ticket("t1", "Front row", "RESERVED").node, event } },
      },
    },
    {
      request: { query: MyOrdersDocument, variables: { first: 50 } },
      result: {
        data: {
          __typename: "Query",
          myOrders: {
            __typename: "OrderConnection",
            edges: [
              {
                __typename: "OrderEdge",
                cursor: "o1",
                node: {
                  __typename: "Order",
                  id: "o1",
                  status: "AWAITING_PAYMENT",
                  createdAt: "2030-01-01T10:00:00.000Z",
                  expiresAt: "2030-01-01T10:15:00.000Z",
                  total: money(4500),
                  ticket: { __typename: "Ticket", id: "t1", title: "Front row" },
                },
              },
            ],
            pageInfo: { __typename: "PageInfo", hasNextPage: false, endCursor: null },
          },
        },
      },
    },
  ]);
  const link = await screen.findByRole("link", { name: "Pay for it on your order" });
  expect(link.getAttribute("href")).toBe("/orders/o1");
  expect(screen.getByText("On hold")).toBeTruthy();
  expect(screen.getByRole<HTMLButtonElement>("button", { name: "Buy" }).disabled).toBe(true);
});

it("counts a hold down in minutes and seconds, never below zero", () => {
  const now = Date.parse("2030-01-01T10:00:00.000Z");
  expect(remaining("2030-01-01T10:15:00.000Z", now)).toBe("15:00");
  expect(remaining("2030-01-01T10:00:09.200Z", now)).toBe("0:10");
  expect(remaining("2030-01-01T09:59:00.000Z", now)).toBe("0:00");
});

it("searches the catalog for the longest word typed, and the picker matches every word, accents aside", () => {
  expect(searchWord("swan  London")).toBe("London");
  expect(searchWord(" a ")).toBeUndefined();
  const events = [
    { id: "1", name: "Les Étoiles", venue: "Le Zénith", city: "Paris", startsAt: "2030-01-01T20:00:00Z" },
    {
      id: "2",
      name: "Swan Lake",
      venue: "Royal Opera House",
      city: "London",
      startsAt: "2030-01-02T20:00:00Z",
    },
  ];
  expect(matchEvents(events, "etoiles zenith").map((event) => event.id)).toEqual(["1"]);
  expect(matchEvents(events, "LONDON swan").map((event) => event.id)).toEqual(["2"]);
  expect(matchEvents(events, "")).toHaveLength(2);
});
