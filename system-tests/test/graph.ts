// The public graph as a fan's browser uses it: one cookie jar, JSON to the gateway's /graphql, and
// the contract's documents for buying and paying.
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";

export interface GraphQLResponse<T> {
  status: number;
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** What one call ended with: the response, or why there was none (the gateway is down, …). */
export type Outcome<T> = { response: GraphQLResponse<T> } | { failure: string };

export class Fan {
  readonly cookies = new Map<string, string>();

  constructor(readonly origin: string) {}

  cookieHeader(): Record<string, string> {
    if (this.cookies.size === 0) return {};
    return { cookie: [...this.cookies].map(([name, value]) => `${name}=${value}`).join("; ") };
  }

  /** One request; throws when no HTTP answer came (refused, reset, timed out). */
  async graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
    const response = await fetch(`${this.origin}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...this.cookieHeader() },
      body: JSON.stringify({ query, variables }),
      // A request stuck on a dead dependency must not hold the test longer than a retry would.
      signal: AbortSignal.timeout(8_000),
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [name, ...value] = (cookie.split(";")[0] ?? "").split("=");
      if (name) this.cookies.set(name, value.join("="));
    }
    const text = await response.text();
    try {
      return { status: response.status, ...(JSON.parse(text) as Omit<GraphQLResponse<T>, "status">) };
    } catch {
      return {
        status: response.status,
        errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 200)}` }],
      };
    }
  }

  async attempt<T>(query: string, variables: Record<string, unknown> = {}): Promise<Outcome<T>> {
    try {
      return { response: await this.graphql<T>(query, variables) };
    } catch (error) {
      // fetch says "fetch failed"; what failed (refused, reset, timed out) is its cause.
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
      return { failure: `${error instanceof Error ? error.message : String(error)}${cause}` };
    }
  }
}

export const codeOf = (outcome: Outcome<unknown>) =>
  "response" in outcome ? outcome.response.errors?.[0]?.extensions?.code : undefined;

export function describeOutcome(outcome: Outcome<unknown>): string {
  if ("failure" in outcome) return `no answer: ${outcome.failure}`;
  const { status, errors, data } = outcome.response;
  return errors?.length
    ? `HTTP ${status} ${JSON.stringify(errors)}`
    : `HTTP ${status} ${JSON.stringify(data)}`;
}

/** The data of an answer without errors, or undefined. */
export function dataOf<T>(outcome: Outcome<T>): T | undefined {
  if ("failure" in outcome || outcome.response.errors?.length) return undefined;
  return outcome.response.data ?? undefined;
}

/**
 * Calls `step` every `pauseMs` until `accept` takes its outcome or `deadline` (epoch ms) passes, as a
 * client retrying through an outage would; returns the last outcome, for the test to assert on.
 */
export async function retrying<T>(
  step: () => Promise<Outcome<T>>,
  accept: (outcome: Outcome<T>) => boolean,
  deadline: number,
  pauseMs = 200,
): Promise<Outcome<T>> {
  for (;;) {
    const outcome = await step();
    if (accept(outcome) || Date.now() >= deadline) return outcome;
    await sleep(pauseMs);
  }
}

/** Accepts an answer without errors. */
export const succeeded = (outcome: Outcome<unknown>) => dataOf(outcome) !== undefined;

// ---------------------------------------------------------------- the contract's documents

export const SIGN_UP = `mutation SignUp($input: SignUpInput!) { signUp(input: $input) { id email displayName roles } }`;
export const SIGN_IN = `mutation SignIn($input: SignInInput!) { signIn(input: $input) { id email displayName roles } }`;
export const CREATE_EVENT = `mutation CreateEvent($input: CreateEventInput!) { createEvent(input: $input) { id } }`;
export const LIST_TICKET = `mutation ListTicket($input: ListTicketInput!) {
  listTicket(input: $input) { id status version }
}`;
export const UPDATE_TICKET = `mutation UpdateTicket($id: ID!, $input: UpdateTicketInput!) {
  updateTicket(id: $id, input: $input) { id version }
}`;
export const CREATE_ORDER = `mutation CreateOrder($ticketId: ID!) {
  createOrder(ticketId: $ticketId) { id status expiresAt createdAt total { amount currency } }
}`;
export const ORDER = `query Order($id: ID!) {
  order(id: $id) {
    id status expiresAt
    ticket { id status }
    payment { id status }
  }
}`;
export const MY_ORDERS = `query MyOrders($first: Int) {
  myOrders(first: $first) { edges { node { id status expiresAt ticket { id } } } }
}`;
export const START_PAYMENT = `mutation StartPayment($orderId: ID!) {
  startPayment(orderId: $orderId) { paymentIntentId clientSecret amount { amount currency } }
}`;
export const CONFIRM_SANDBOX = `mutation ConfirmSandboxPayment($orderId: ID!) {
  confirmSandboxPayment(orderId: $orderId) { id status }
}`;
export const TICKET_CHANGES = `subscription TicketChanges($eventId: ID!) {
  ticketChanged(eventId: $eventId) { id status version price { amount currency } seller { id displayName } }
}`;

export interface OrderNode {
  id: string;
  status: string;
  expiresAt: string;
  ticket: { id: string; status: string } | null;
  payment: { id: string; status: string } | null;
}

export const PASSWORD = "correct horse battery";

/** A fan signed up through the gateway; throws when sign-up fails (the system is meant to be healthy). */
export async function signedUp(
  origin: string,
  displayName: string,
  email = `${randomUUID()}@faults.example`,
) {
  const fan = new Fan(origin);
  const outcome = await fan.attempt(SIGN_UP, { input: { email, password: PASSWORD, displayName } });
  if (!succeeded(outcome)) throw new Error(`sign-up of ${email}: ${describeOutcome(outcome)}`);
  return fan;
}

export async function readOrder(fan: Fan, id: string): Promise<OrderNode | undefined> {
  return dataOf(await fan.attempt<{ order: OrderNode }>(ORDER, { id }))?.order;
}
