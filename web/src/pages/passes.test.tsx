import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { MockedProvider } from "@apollo/client/testing/react";
import type { MockLink } from "@apollo/client/testing";
import { MemoryRouter } from "react-router";
import type { ReactNode } from "react";
import { encode } from "uqr";
import { afterEach, expect, it } from "vitest";
import { GraphQLError } from "graphql";
import {
  CheckInDocument,
  ListPassDocument,
  MeDocument,
  MyPassesDocument,
  PassCodeDocument,
  PassStepDocument,
  ScannerEventsDocument,
} from "../gql/graphql.js";
import { modulesPath, QrCode } from "../components/QrCode.js";
import { untilNextStep } from "../components/PassCard.js";
import { MyPassesPage } from "./Passes.js";
import { ScanPage } from "./Scan.js";

afterEach(cleanup);

const me = (roles: string[]) => ({
  request: { query: MeDocument },
  result: {
    data: {
      __typename: "Query" as const,
      me: { __typename: "User" as const, id: "u1", email: "u@x.io", displayName: "Dora", roles },
    },
  },
});

function show(element: ReactNode, mocks: MockLink.MockedResponse[]) {
  return render(
    <MockedProvider mocks={mocks}>
      <MemoryRouter>{element}</MemoryRouter>
    </MockedProvider>,
  );
}

it("draws a QR code's dark modules, finder patterns included, in one path over a white ground", () => {
  const value = "P1.eyJwIjoicGFzcy0xIn0.c2lnbmF0dXJl";
  const { data, size } = encode(value, { ecc: "M", border: 4 });
  const { container } = render(<QrCode value={value} label="QR code of your pass" />);
  const svg = screen.getByRole("img", { name: "QR code of your pass" });
  expect(svg.getAttribute("viewBox")).toBe(`0 0 ${size} ${size}`);
  // The top left finder pattern: a 7-module dark ring inside the 4-module quiet zone.
  expect(data[4]!.slice(4, 11)).toEqual(Array(7).fill(true));
  expect(data[3]!.some(Boolean)).toBe(false);
  const path = container.querySelector("path")!.getAttribute("d")!;
  expect(path).toContain("M4 4h1v1h-1z");
  expect(path).not.toContain("M3 3h");
  expect(path.split("M").length - 1).toBe(data.flat().filter(Boolean).length);
  expect(
    modulesPath([
      [true, false],
      [false, true],
    ]),
  ).toBe("M0 0h1v1h-1zM1 1h1v1h-1z");
});

it("asks for a new code just after the next step starts", () => {
  expect(untilNextStep(60_000, 30)).toBe(31_000);
  expect(untilNextStep(89_999, 30)).toBe(1_001);
});

it("says so when the fan holds no ticket yet", async () => {
  show(<MyPassesPage />, [
    me(["USER"]),
    {
      request: { query: MyPassesDocument },
      result: { data: { __typename: "Query", myPasses: [], incomingPassTransfers: [] } },
    },
  ]);
  await screen.findByRole("heading", { name: "My tickets", level: 1 });
  expect(screen.getByText(/You have no tickets yet/)).toBeTruthy();
  expect(screen.queryByRole("button", { name: "Print my tickets" })).toBeNull();
});

it("keeps the scanner from fans without the STAFF or OPS role", async () => {
  show(<ScanPage />, [me(["USER"])]);
  expect((await screen.findByRole("alert")).textContent).toBe(
    "This page is for door staff and the operations team only.",
  );
});

it("admits, then refuses with the reason in words, and counts both", async () => {
  const event = {
    __typename: "Event" as const,
    id: "e1",
    name: "Night Show",
    startsAt: "2031-05-01T19:00:00.000Z",
    venue: "Hall",
    city: "Lyon",
  };
  const pass = { __typename: "Pass" as const, id: "p1", title: "Row 7", section: null };
  const checkIn = (result: object) => ({
    request: { query: CheckInDocument, variables: { eventId: "e1", code: "P1.a.b" } },
    result: {
      data: { __typename: "Mutation" as const, checkIn: { __typename: "CheckInResult", ...result } },
    },
  });
  show(<ScanPage />, [
    me(["STAFF"]),
    {
      request: { query: ScannerEventsDocument },
      result: {
        data: {
          __typename: "Query",
          events: { __typename: "EventConnection", edges: [{ __typename: "EventEdge", node: event }] },
        },
      },
    },
    checkIn({
      admitted: true,
      refusal: null,
      message: "Welcome",
      checkedInAt: "2031-05-01T18:00:00.000Z",
      pass,
    }),
    ...[1, 2].map(() =>
      checkIn({
        admitted: false,
        refusal: "ALREADY_CHECKED_IN",
        message: "This pass was checked in already",
        checkedInAt: "2031-05-01T18:00:00.000Z",
        pass,
      }),
    ),
  ]);
  fireEvent.change(await screen.findByLabelText("Event at this door"), { target: { value: "e1" } });
  const field = screen.getByLabelText("Pass code");
  const status = screen.getByRole("status");
  expect(status.getAttribute("aria-live")).toBe("assertive");

  fireEvent.change(field, { target: { value: "P1.a.b" } });
  fireEvent.submit(field.closest("form")!);
  await within(status).findByText("ADMITTED");
  expect(status.querySelector(".scan-result.admitted")).toBeTruthy();

  fireEvent.change(field, { target: { value: " P1.a.b " } });
  fireEvent.submit(field.closest("form")!);
  await within(status).findByText("REFUSED");
  expect(within(status).getByText("Already checked in")).toBeTruthy();
  expect(status.querySelector(".scan-result.refused")).toBeTruthy();
  expect(document.querySelector('[data-count="admitted"]')!.textContent).toBe("1");
  expect(document.querySelector('[data-count="refused"]')!.textContent).toBe("1");

  // The same answer again is a new one on the screen, for the live region to announce.
  const shown = status.querySelector(".scan-result");
  fireEvent.change(field, { target: { value: "P1.a.b" } });
  fireEvent.submit(field.closest("form")!);
  await waitFor(() => expect(document.querySelector('[data-count="refused"]')!.textContent).toBe("2"));
  expect(status.querySelector(".scan-result")).not.toBe(shown);
  // Happy DOM has no BarcodeDetector: codes are entered, and the page says so.
  expect(screen.getByText(/can't read QR codes with the camera/)).toBeTruthy();
});

it("shows a pass with its QR code, and a resale above the event's cap refused in the graph's words", async () => {
  const pass = {
    __typename: "Pass" as const,
    id: "p1",
    status: "VALID" as const,
    title: "Row 7",
    section: "C",
    issue: 1,
    checkedInAt: null,
    pendingTransfer: null,
    history: [],
    event: {
      __typename: "Event" as const,
      id: "e1",
      name: "Night Show",
      startsAt: "2031-05-01T19:00:00.000Z",
      venue: "Hall",
      city: "Lyon",
      currency: "EUR",
      resalePriceCap: { __typename: "Money" as const, amount: 5_000, currency: "EUR" },
    },
  };
  show(<MyPassesPage />, [
    me(["USER"]),
    {
      request: { query: MyPassesDocument },
      result: { data: { __typename: "Query", myPasses: [pass], incomingPassTransfers: [] } },
    },
    {
      request: { query: PassStepDocument, variables: { eventId: "e1" } },
      result: {
        data: {
          __typename: "Query",
          eventPassKey: { __typename: "PassKey", eventId: "e1", keyId: "k1", stepSeconds: 30 },
        },
      },
    },
    {
      request: { query: PassCodeDocument, variables: { id: "p1" } },
      result: {
        data: {
          __typename: "Query",
          pass: {
            __typename: "Pass",
            id: "p1",
            status: "VALID",
            code: "P1.eyJwIjoicDEifQ.c2ln",
            codeExpiresAt: "2031-05-01T18:00:30.000Z",
          },
        },
      },
    },
    {
      request: {
        query: ListPassDocument,
        variables: { input: { passId: "p1", price: { amount: 9_000, currency: "EUR" } } },
      },
      result: {
        errors: [
          new GraphQLError("The price is above this event's resale price cap of EUR 50.00", {
            extensions: { code: "BAD_USER_INPUT", field: "price" },
          }),
        ],
      },
    },
  ]);
  await screen.findByRole("img", { name: "QR code of your pass for Night Show, Row 7" });
  expect(screen.getByText("P1.eyJwIjoicDEifQ.c2ln")).toBeTruthy();
  expect(screen.getByText(/At most .*50\.00: the event's resale price cap\./)).toBeTruthy();
  const price = screen.getByLabelText("Resell this ticket for");
  fireEvent.change(price, { target: { value: "90" } });
  fireEvent.submit(price.closest("form")!);
  expect((await screen.findByRole("alert")).textContent).toBe(
    "The price is above this event's resale price cap of EUR 50.00.",
  );
  expect(price.getAttribute("aria-invalid")).toBe("true");
});
