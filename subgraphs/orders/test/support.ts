import { randomUUID } from "node:crypto";
import type { Money, Payload } from "@ticketing/shared-events";
import { TestStream } from "@ticketing/shared-events/testing";
import { eventually, FakeAuth, infra, natsUrlFor, uniqueName } from "@ticketing/testkit";
import { ordersService, loadEnv, type OrdersService, type OrdersServiceOptions } from "../src/service.js";

export { FakeAuth };

export interface GraphQLResult<TData = Record<string, unknown>> {
  status: number;
  data?: TData | null;
  errors?: { message: string; path?: string[]; extensions?: Record<string, unknown> }[];
}

export interface RunningOrders {
  service: OrdersService;
  graphql<TData = Record<string, unknown>>(
    query: string,
    options?: { variables?: Record<string, unknown>; token?: string },
  ): Promise<GraphQLResult<TData>>;
  close(): Promise<void>;
}

/** The orders service on a free port, with a database and consumers of its own. */
export async function startOrders(
  auth: FakeAuth,
  overrides: Record<string, string> = {},
  options: Pick<OrdersServiceOptions, "database" | "onMongoCommand"> = {},
): Promise<RunningOrders> {
  const { mongoUrl } = infra();
  const env = loadEnv({
    NODE_ENV: "test",
    LOG_LEVEL: "silent",
    MONGO_URL: mongoUrl,
    NATS_URL: natsUrlFor("orders"),
    AUTH_JWKS_URL: auth.jwksUrl,
    ...overrides,
  });
  const service = await ordersService.start(env, {
    database: options.database ?? uniqueName("orders"),
    ...(options.onMongoCommand ? { onMongoCommand: options.onMongoCommand } : {}),
    consumers: {
      tickets: uniqueName("orders_tickets"),
      expiration: uniqueName("orders_expiration"),
      payments: uniqueName("orders_payments"),
    },
  });
  const { url } = await service.listen(0, "127.0.0.1");
  return {
    service,
    async graphql(query, { variables, token } = {}) {
      const response = await fetch(url, {
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

export const openStream = () => TestStream.open(infra().natsUrl);

/** Fails with the errors when a response has any; returns its data. */
export function dataOf<T>(result: GraphQLResult<T>): T {
  if (result.errors?.length || !result.data)
    throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
  return result.data;
}

export const codeOf = (result: GraphQLResult<unknown>) => result.errors?.[0]?.extensions?.code;

export interface OrderNode {
  id: string;
  status: string;
  expiresAt: string;
  createdAt: string;
  version: number;
  total: Money;
  ticket: { id: string };
  buyer: { id: string };
}

const ORDER_FIELDS =
  "id status expiresAt createdAt version total { amount currency } ticket { id } buyer { id }";
export const CREATE_ORDER = `mutation CreateOrder($ticketId: ID!) { createOrder(ticketId: $ticketId) { ${ORDER_FIELDS} } }`;
export const CANCEL_ORDER = `mutation CancelOrder($id: ID!) { cancelOrder(id: $id) { ${ORDER_FIELDS} } }`;
export const ORDER = `query Order($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`;
export const MY_ORDERS = `query MyOrders($first: Int, $after: String) {
  myOrders(first: $first, after: $after) { edges { cursor node { ${ORDER_FIELDS} } } pageInfo { hasNextPage endCursor } }
}`;

export type TicketData = Payload<"ticketing.ticket.updated">;

/**
 * Tickets played by the test: lists a ticket on the stream, then waits until orders knows it
 * (the seller's own order attempt stops being NOT_FOUND and is refused as their own).
 */
export async function listTicket(
  stream: TestStream,
  orders: RunningOrders,
  auth: FakeAuth,
  fields: Partial<TicketData> = {},
): Promise<TicketData> {
  const ticket: TicketData = {
    id: randomUUID(),
    eventId: "event-1",
    sellerId: randomUUID(),
    title: "Two seats",
    section: null,
    price: { amount: 5_000, currency: "EUR" },
    status: "AVAILABLE",
    orderId: null,
    version: 1,
    ...fields,
  };
  await stream.publish("ticketing.ticket.created", ticket);
  const sellerToken = auth.token(ticket.sellerId);
  const probe = await eventually(
    () => orders.graphql(CREATE_ORDER, { variables: { ticketId: ticket.id }, token: sellerToken }),
    (result) => codeOf(result) === "BAD_USER_INPUT",
  );
  if (codeOf(probe) !== "BAD_USER_INPUT") throw new Error(`orders never learnt of ticket ${ticket.id}`);
  return ticket;
}

/** Tickets' next version of a ticket, as its `ticket.updated` would carry it. */
export function ticketUpdated(stream: TestStream, ticket: TicketData, changes: Partial<TicketData>) {
  const next = { ...ticket, ...changes, version: changes.version ?? ticket.version + 1 };
  return stream.publish("ticketing.ticket.updated", next).then(() => next);
}
