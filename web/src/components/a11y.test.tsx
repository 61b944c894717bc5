import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { MockedProvider } from "@apollo/client/testing/react";
import { useEffect, useRef, useState } from "react";
import { Link, MemoryRouter, Route, Routes } from "react-router";
import { afterEach, expect, it, vi } from "vitest";
import { WithdrawTicketDocument } from "../gql/graphql.js";
import { ListingRow } from "../pages/MyListings.js";
import { ConfirmButton } from "./Confirm.js";
import { HoldAnnouncer, holdAnnouncement } from "./HoldAnnouncer.js";
import { usePageHeading } from "./PageHeading.js";

afterEach(cleanup);

it("announces the hold at 5 min, 1 min, 30 s and 10 s left, never on the first look", () => {
  expect(holdAnnouncement(undefined, 300)).toBeUndefined();
  expect(holdAnnouncement(301, 300)).toBe("5 minutes left to pay before the ticket is released.");
  expect(holdAnnouncement(300, 299)).toBeUndefined();
  expect(holdAnnouncement(61, 60)).toBe("1 minute left to pay before the ticket is released.");
  expect(holdAnnouncement(31, 30)).toBe("30 seconds left to pay before the ticket is released.");
  expect(holdAnnouncement(11, 10)).toBe("10 seconds left to pay before the ticket is released.");
  expect(holdAnnouncement(10, 9)).toBeUndefined();
  // A clock that jumped (a tab in the background) says what is actually left.
  expect(holdAnnouncement(90, 25)).toBe("25 seconds left to pay before the ticket is released.");
  // The expiry is the page's own alert.
  expect(holdAnnouncement(1, 0)).toBeUndefined();
  const spoken = Array.from({ length: 900 }, (_, i) => holdAnnouncement(900 - i, 899 - i)).filter(Boolean);
  expect(spoken).toHaveLength(4);
});

it("keeps the announcement in a polite live region that changes only at those moments", () => {
  const expiresAt = "2030-01-01T10:05:00.000Z";
  const at = (secondsLeft: number) => Date.parse(expiresAt) - secondsLeft * 1000;
  const { container, rerender } = render(<HoldAnnouncer expiresAt={expiresAt} now={at(302)} />);
  const region = container.querySelector("[aria-live=polite]");
  expect(region?.textContent).toBe("");
  rerender(<HoldAnnouncer expiresAt={expiresAt} now={at(301)} />);
  expect(region?.textContent).toBe("");
  rerender(<HoldAnnouncer expiresAt={expiresAt} now={at(300)} />);
  expect(region?.textContent).toBe("5 minutes left to pay before the ticket is released.");
  rerender(<HoldAnnouncer expiresAt={expiresAt} now={at(299)} />);
  expect(region?.textContent).toBe("5 minutes left to pay before the ticket is released.");
});

it("asks before doing what cannot be undone; no or Escape puts the button back, focused", () => {
  const onConfirm = vi.fn();
  render(
    <ConfirmButton question="Withdraw it?" yes="Yes, withdraw" no="Keep it on sale" onConfirm={onConfirm}>
      Withdraw
    </ConfirmButton>,
  );
  fireEvent.click(screen.getByRole("button", { name: "Withdraw" }));
  expect(screen.getByRole("group", { name: "Withdraw it?" })).toBeTruthy();
  expect(document.activeElement).toBe(screen.getByRole("button", { name: "Keep it on sale" }));
  fireEvent.keyDown(screen.getByRole("button", { name: "Keep it on sale" }), { key: "Escape" });
  expect(document.activeElement).toBe(screen.getByRole("button", { name: "Withdraw" }));
  fireEvent.click(screen.getByRole("button", { name: "Withdraw" }));
  fireEvent.click(screen.getByRole("button", { name: "Keep it on sale" }));
  expect(onConfirm).not.toHaveBeenCalled();
  fireEvent.click(screen.getByRole("button", { name: "Withdraw" }));
  fireEvent.click(screen.getByRole("button", { name: "Yes, withdraw" }));
  expect(onConfirm).toHaveBeenCalledTimes(1);
});

it("withdraws a listing only once the seller said yes", async () => {
  let withdrawals = 0;
  const listing = {
    __typename: "Ticket" as const,
    id: "t1",
    title: "Front row",
    status: "AVAILABLE" as const,
    version: 1,
    price: { __typename: "Money" as const, amount: 4500, currency: "EUR" },
    event: { __typename: "Event" as const, id: "e1", name: "Night Show" },
  };
  render(
    <MockedProvider
      mocks={[
        {
          request: { query: WithdrawTicketDocument, variables: { id: "t1" } },
          result: () => {
            withdrawals += 1;
            return {
              data: { withdrawTicket: { __typename: "Ticket", id: "t1", status: "WITHDRAWN", version: 2 } },
            };
          },
        },
      ]}
    >
      <MemoryRouter>
        <ul>
          <ListingRow listing={listing} />
        </ul>
      </MemoryRouter>
    </MockedProvider>,
  );
  fireEvent.click(screen.getByRole("button", { name: "Withdraw Front row" }));
  await act(() => new Promise((resolve) => setTimeout(resolve, 20)));
  expect(withdrawals).toBe(0);
  expect(screen.getByText('Withdraw "Front row"? It comes off sale at once.')).toBeTruthy();
  fireEvent.click(screen.getByRole("button", { name: "Yes, withdraw" }));
  await vi.waitFor(() => expect(withdrawals).toBe(1));
});

function Shell() {
  const main = useRef<HTMLElement>(null);
  usePageHeading(main);
  return (
    <>
      <nav>
        <Link to="/b">Go to B</Link>
      </nav>
      <main ref={main}>
        <Routes>
          <Route index element={<h1>Upcoming events</h1>} />
          <Route path="b" element={<Later />} />
        </Routes>
      </main>
    </>
  );
}

/** A page whose heading shows once its data is in. */
function Later() {
  const [name, setName] = useState<string>();
  useEffect(() => {
    const timer = setTimeout(() => setName("Night Show"), 10);
    return () => clearTimeout(timer);
  }, []);
  return name ? <h1>{name}</h1> : <p>Loading…</p>;
}

it("titles the document after each page's heading, and moves the focus to it on navigation", async () => {
  render(
    <MemoryRouter>
      <Shell />
    </MemoryRouter>,
  );
  expect(document.title).toBe("Upcoming events · Ticketing");
  // Not on the first page of a visit.
  expect(document.activeElement).toBe(document.body);
  const link = screen.getByRole("link", { name: "Go to B" });
  link.focus();
  fireEvent.click(link);
  const heading = await screen.findByRole("heading", { name: "Night Show" });
  await vi.waitFor(() => expect(document.title).toBe("Night Show · Ticketing"));
  expect(document.activeElement).toBe(heading);
  expect(heading.tabIndex).toBe(-1);
});
