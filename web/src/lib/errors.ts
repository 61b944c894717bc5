// Every refusal of the graph, in words a fan understands.
import { CombinedGraphQLErrors, ServerError } from "@apollo/client/errors";

export type Action =
  | "load"
  | "signIn"
  | "signUp"
  | "resetPassword"
  | "listTicket"
  | "updateTicket"
  | "withdrawTicket"
  | "createOrder"
  | "cancelOrder"
  | "pay"
  | "opsFeed"
  | "transferPass"
  | "acceptTransfer"
  | "resellPass"
  | "checkIn";

export interface Refusal {
  code: string | undefined;
  field: string | undefined;
  message: string | undefined;
  status: number | undefined;
  /** Seconds to wait before trying again, when the graph said (RATE_LIMITED). */
  retryAfter: number | undefined;
}

/** A positive number of seconds, or undefined. */
const seconds = (value: unknown): number | undefined => {
  const parsed = typeof value === "string" ? Number(value) : value;
  return typeof parsed === "number" && Number.isFinite(parsed) && parsed > 0 ? parsed : undefined;
};

/** The contract's error code (and field) of a failed request, whatever carried it. */
export function refusal(error: unknown): Refusal {
  if (CombinedGraphQLErrors.is(error)) {
    const first = error.errors[0];
    const extensions = first?.extensions ?? {};
    return {
      code: typeof extensions.code === "string" ? extensions.code : undefined,
      field: typeof extensions.field === "string" ? extensions.field : undefined,
      message: first?.message,
      status: undefined,
      retryAfter: seconds(extensions.retryAfter),
    };
  }
  if (ServerError.is(error)) {
    let code: string | undefined;
    let field: string | undefined;
    let retryAfter = seconds(error.response.headers.get("retry-after"));
    try {
      const body = JSON.parse(error.bodyText) as {
        errors?: { extensions?: { code?: unknown; field?: unknown; retryAfter?: unknown } }[];
      };
      const extensions = body.errors?.[0]?.extensions;
      if (typeof extensions?.code === "string") code = extensions.code;
      if (typeof extensions?.field === "string") field = extensions.field;
      retryAfter = seconds(extensions?.retryAfter) ?? retryAfter;
    } catch {
      // not a GraphQL body
    }
    if (!code && error.statusCode === 429) code = "RATE_LIMITED";
    return { code, field, message: undefined, status: error.statusCode, retryAfter };
  }
  const none = { field: undefined, message: undefined, status: undefined, retryAfter: undefined };
  if (error && typeof error === "object" && "code" in error && typeof error.code === "string") {
    return { code: error.code, ...none };
  }
  return { code: undefined, ...none };
}

const FIELDS: Record<string, string> = {
  email: "Please enter a valid email address.",
  password: "Your password needs 8 to 128 characters.",
  displayName: "Your name needs 1 to 50 characters.",
  title: "The title needs 1 to 120 characters.",
  section: "The section can have at most 40 characters.",
  price: "Please enter a price between 0.01 and 1,000,000.",
  amount: "Please enter a price between 0.01 and 1,000,000.",
  currency: "Please choose one of the currencies offered.",
  eventId: "Please choose an event.",
  ticketId: "That's your own ticket: you can't buy it.",
};

/** The field a BAD_USER_INPUT refers to, for forms to mark it. */
export function errorField(error: unknown): string | undefined {
  const { code, field } = refusal(error);
  return code === "BAD_USER_INPUT" ? field?.split(".").pop() : undefined;
}

export function describeError(error: unknown, action: Action): string {
  const { code, field, message } = refusal(error);
  switch (code ?? "") {
    case "UNAUTHENTICATED":
      return action === "signIn"
        ? "That email and password don't match an account."
        : "Please sign in to continue. Your session may have ended.";
    case "FORBIDDEN":
      if (action === "opsFeed") return "This page is for the operations team only.";
      if (action === "updateTicket" || action === "withdrawTicket")
        return "Only the seller can change this ticket.";
      if (action === "cancelOrder" || action === "pay") return "This order belongs to another account.";
      if (action === "checkIn") return "Only door staff and the operations team can check passes in.";
      if (action === "transferPass" || action === "acceptTransfer")
        return "This pass isn't yours to transfer.";
      return "You're not allowed to do that.";
    case "NOT_FOUND":
      if (action === "createOrder") return "This ticket is no longer listed.";
      return "We couldn't find that. It may have been removed.";
    case "CONFLICT":
      return conflict(action);
    case "BAD_USER_INPUT": {
      const key = field?.split(".").pop();
      if (action === "createOrder") return "That's your own ticket: you can't buy it.";
      if (action === "pay") return "This order can't be paid for any more: your hold may have expired.";
      if (action === "signUp" && key === "email") {
        // auth answers both on `email`; only its words tell a taken address from a malformed one.
        return /already registered/i.test(message ?? "")
          ? "An account with that email already exists. Sign in, or reset your password if you forgot it."
          : "Please enter a valid email address, like name@example.com.";
      }
      if (action === "transferPass" && key === "email")
        return "There's no account with that email. Ask the recipient to sign up first, then send it again.";
      // The resale price cap: the graph's words name it.
      if (action === "resellPass" && key === "price" && message) return `${message}.`;
      if (action === "resetPassword" && key === "token")
        return "This reset link is invalid, already used or expired.";
      return (key && FIELDS[key]) ?? "Please check what you entered.";
    }
    case "RATE_LIMITED":
      return "Too many requests right now. Please wait a moment and try again.";
    case "SERVICE_UNAVAILABLE":
      return action === "opsFeed"
        ? "The activity of the last hour is still being read; it appears in a moment."
        : "The marketplace is busy right now. Please try again in a moment.";
    case "GRAPHQL_VALIDATION_FAILED":
      return action === "pay"
        ? "Paying isn't available right now. Your ticket stays held until the timer runs out."
        : "This part of the marketplace isn't available right now.";
    default:
      if (error instanceof TypeError || (error instanceof Error && /fetch|network/i.test(error.message))) {
        return "We can't reach the marketplace right now. Check your connection and try again.";
      }
      return "Something went wrong on our side. Please try again in a moment.";
  }
}

function conflict(action: Action): string {
  switch (action) {
    case "createOrder":
      return "Someone else reserved this ticket first.";
    case "signUp":
      return "An account with that email already exists. Try signing in.";
    case "pay":
      return "Your hold on this ticket has expired, so it can't be paid for any more.";
    case "cancelOrder":
      return "This order can't be cancelled any more: it was already paid, cancelled or expired.";
    case "updateTicket":
    case "withdrawTicket":
      return "This ticket is reserved, sold or changed since you opened the page, so it can't be changed now.";
    case "transferPass":
      return "This pass can't be transferred now: it was checked in, listed for sale or changed since you opened the page.";
    case "acceptTransfer":
      return "This transfer is no longer on offer: it was withdrawn or already accepted.";
    case "resellPass":
      return "This pass can't be listed now: it is on its way to someone, checked in or listed already.";
    case "load":
    case "signIn":
    case "checkIn":
    case "resetPassword":
    case "listTicket":
    case "opsFeed":
      return "Someone changed this at the same moment. Please reload and try again.";
  }
}
