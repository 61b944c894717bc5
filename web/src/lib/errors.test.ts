import { CombinedGraphQLErrors, ServerError } from "@apollo/client/errors";
import { expect, it } from "vitest";
import { describeError, errorField, refusal } from "./errors.js";

const refused = (code: string, field?: string) =>
  new CombinedGraphQLErrors({
    data: null,
    errors: [{ message: "internal wording", extensions: { code, ...(field ? { field } : {}) } }],
  });

it("says what a refused purchase means to a fan", () => {
  expect(describeError(refused("CONFLICT"), "createOrder")).toBe("Someone else reserved this ticket first.");
  expect(describeError(refused("NOT_FOUND"), "createOrder")).toBe("This ticket is no longer listed.");
  expect(describeError(refused("BAD_USER_INPUT", "ticketId"), "createOrder")).toMatch(/your own ticket/);
  expect(describeError(refused("CONFLICT"), "pay")).toMatch(/hold on this ticket has expired/);
  expect(describeError(refused("UNAUTHENTICATED"), "createOrder")).toMatch(/sign in/i);
});

it("never shows the graph's own wording, and names the field of a bad input", () => {
  for (const code of ["FORBIDDEN", "RATE_LIMITED", "SOMETHING_NEW", "CONFLICT"]) {
    expect(describeError(refused(code), "listTicket")).not.toMatch(/internal wording/);
  }
  expect(describeError(refused("UNAUTHENTICATED"), "signIn")).toBe(
    "That email and password don't match an account.",
  );
  expect(errorField(refused("BAD_USER_INPUT", "input.title"))).toBe("title");
  expect(describeError(refused("BAD_USER_INPUT", "input.title"), "listTicket")).toMatch(/1 to 120/);
});

it("tells a taken email from a malformed one at sign-up", () => {
  const refusedWith = (message: string) =>
    new CombinedGraphQLErrors({
      data: null,
      errors: [{ message, extensions: { code: "BAD_USER_INPUT", field: "email" } }],
    });
  expect(describeError(refusedWith("This email is already registered"), "signUp")).toMatch(/already exists/);
  expect(describeError(refusedWith("The email is not a valid address"), "signUp")).toMatch(/valid email/);
});

it("understands refusals that come as HTTP statuses", () => {
  const limited = new ServerError("Too many", {
    response: new Response("{}", { status: 429 }),
    bodyText: "{}",
  });
  expect(describeError(limited, "load")).toMatch(/Too many requests/);
  // How long to wait: the body's retryAfter, else the Retry-After header.
  const told = (body: string, headers: Record<string, string> = {}) =>
    refusal(
      new ServerError("Too many", { response: new Response(body, { status: 429, headers }), bodyText: body }),
    ).retryAfter;
  const busy = JSON.stringify({
    errors: [{ message: "Busy", extensions: { code: "RATE_LIMITED", retryAfter: 3 } }],
  });
  expect(told(busy, { "retry-after": "2" })).toBe(3);
  expect(told("{}", { "retry-after": "2" })).toBe(2);
  expect(told("{}")).toBeUndefined();
  expect(describeError(new TypeError("Failed to fetch"), "load")).toMatch(/can't reach/);
  const body = JSON.stringify({
    errors: [
      {
        message: "Int cannot represent…",
        extensions: { code: "BAD_USER_INPUT", field: "input.price.amount" },
      },
    ],
  });
  const tooBig = new ServerError("Bad request", {
    response: new Response(body, { status: 400 }),
    bodyText: body,
  });
  expect(errorField(tooBig)).toBe("amount");
  expect(describeError(tooBig, "listTicket")).toBe("Please enter a price between 0.01 and 1,000,000.");
});

it("tells ops the hour is still being read when the gateway has just started", () => {
  expect(describeError({ code: "SERVICE_UNAVAILABLE" }, "opsFeed")).toMatch(/still being read/);
  expect(describeError({ code: "FORBIDDEN" }, "opsFeed")).toBe("This page is for the operations team only.");
});
