import { TestStream } from "@ticketing/shared-events/testing";
import { FakeAuth, infra, natsUrlFor, uniqueName } from "@ticketing/testkit";
import { ticketsService, loadEnv, type TicketsService } from "../src/service.js";

export { FakeAuth };

export interface GraphQLResult<TData = Record<string, unknown>> {
  status: number;
  data?: TData | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

export interface RunningTickets {
  service: TicketsService;
  origin: string;
  graphql<TData = Record<string, unknown>>(
    query: string,
    options?: { variables?: Record<string, unknown>; token?: string },
  ): Promise<GraphQLResult<TData>>;
  close(): Promise<void>;
}

export function testEnv(jwksUrl: string, overrides: Record<string, string> = {}) {
  const { mongoUrl } = infra();
  return loadEnv({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    MONGO_URL: mongoUrl,
    NATS_URL: natsUrlFor("tickets"),
    AUTH_JWKS_URL: jwksUrl,
    DEMO_CATALOG: "off",
    ...overrides,
  });
}

/** The tickets service on a free port, with a database and an order consumer of its own. */
export async function startTickets(
  auth: FakeAuth,
  overrides: Record<string, string> = {},
  { database = uniqueName("tickets") }: { database?: string } = {},
): Promise<RunningTickets> {
  const service = await ticketsService.start(testEnv(auth.jwksUrl, overrides), {
    database,
    ordersConsumer: uniqueName("tickets_orders"),
    passesConsumer: uniqueName("tickets_passes"),
  });
  const { port } = await service.listen(0, "127.0.0.1");
  const origin = `http://127.0.0.1:${port}`;
  return {
    service,
    origin,
    async graphql(query, { variables, token } = {}) {
      const response = await fetch(`${origin}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResult, "status">;
      return { status: response.status, ...body } as GraphQLResult<never>;
    },
    close: () => service.close(),
  };
}

/** Fails with the errors when a response has any; returns its data. */
export function dataOf<T>(result: GraphQLResult<T>): T {
  if (result.errors?.length || !result.data)
    throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data;
}

export const codeOf = (result: GraphQLResult<unknown>) => result.errors?.[0]?.extensions?.code;
export const fieldOf = (result: GraphQLResult<unknown>) => result.errors?.[0]?.extensions?.field;

export const CREATE_EVENT = `mutation CreateEvent($input: CreateEventInput!) {
  createEvent(input: $input) { id name venue city startsAt category }
}`;

export const EVENTS = `query Events($first: Int, $after: String, $filter: EventFilter, $orderBy: EventOrder) {
  events(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    edges { cursor node { id name venue city startsAt category availableTickets lowestPrice { amount currency } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const EVENT = `query Event($id: ID!, $first: Int, $after: String) {
  event(id: $id) {
    id name venue city startsAt category availableTickets
    tickets(first: $first, after: $after) {
      edges { cursor node { id title section status version price { amount currency } seller { id } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

export const TICKET = `query Ticket($id: ID!) {
  ticket(id: $id) { id title section status version price { amount currency } event { id name startsAt } seller { id } }
}`;

export const LIST_TICKET = `mutation ListTicket($input: ListTicketInput!) {
  listTicket(input: $input) { id title section status version price { amount currency } event { id } seller { id } }
}`;

export const UPDATE_TICKET = `mutation UpdateTicket($id: ID!, $input: UpdateTicketInput!) {
  updateTicket(id: $id, input: $input) { id title section status version price { amount currency } }
}`;

export const WITHDRAW_TICKET = `mutation WithdrawTicket($id: ID!) { withdrawTicket(id: $id) { id status version } }`;

export const MY_LISTINGS = `query MyListings {
  myListings { id title status version price { amount currency } event { id name } }
}`;

export interface EventNode {
  id: string;
  name: string;
  venue: string;
  city: string;
  startsAt: string;
  category: string | null;
  availableTickets: number;
  lowestPrice: { amount: number; currency: string } | null;
}

export interface TicketNode {
  id: string;
  title: string;
  section: string | null;
  status: string;
  version: number;
  price: { amount: number; currency: string };
  event?: { id: string };
  seller?: { id: string };
}

let counter = 0;
/** Creates an event as OPS; `startsAt` defaults to a distinct day some years ahead. */
export async function createEvent(
  tickets: RunningTickets,
  opsToken: string,
  input: Partial<{
    name: string;
    venue: string;
    city: string;
    startsAt: string;
    category: string | null;
  }> = {},
): Promise<EventNode> {
  counter += 1;
  const result = await tickets.graphql<{ createEvent: EventNode }>(CREATE_EVENT, {
    token: opsToken,
    variables: {
      input: {
        name: `Show ${counter}`,
        venue: "Hall",
        city: "Testville",
        startsAt: new Date(Date.UTC(2031, 0, 1) + counter * 3_600_000).toISOString(),
        ...input,
      },
    },
  });
  return dataOf(result).createEvent;
}

export async function listTicket(
  tickets: RunningTickets,
  token: string,
  eventId: string,
  input: Partial<{ title: string; section: string | null; price: { amount: number; currency: string } }> = {},
): Promise<TicketNode> {
  const result = await tickets.graphql<{ listTicket: TicketNode }>(LIST_TICKET, {
    token,
    variables: {
      input: { eventId, title: "Two seats", price: { amount: 5_000, currency: "EUR" }, ...input },
    },
  });
  return dataOf(result).listTicket;
}

/** Orders played by the test: publishes order events on the stream as orders would. */
export const openOrdersStream = () => TestStream.open(infra().natsUrl);
