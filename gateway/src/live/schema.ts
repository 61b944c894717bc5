// The schema of the gateway's WebSocket endpoint: the supergraph's API schema (so a subscription's
// selection set validates against the whole graph) extended with the Subscription type.
import { extendSchema, GraphQLScalarType, parse, type GraphQLSchema } from "graphql";

export const SUBSCRIPTION_SDL = /* GraphQL */ `
  "A domain event as ops see it: what happened in words, and no personal data."
  type OpsEvent {
    "The event's stream sequence: pass it as opsFeed(since:) to resume after it."
    cursor: String!
    "ticketing.<aggregate>.<what>, e.g. ticketing.order.created."
    subject: String!
    "The part of the system it is about: event, ticket, order, payment, pass, expiration, user, session or apikey."
    kind: String!
    occurredAt: DateTime!
    "What happened, in words: which order, ticket and event, and the amount."
    description: String!
    "The event (of the catalog) it concerns, when known."
    eventId: ID
    ticketId: ID
    orderId: ID
    "The amount it moved or stated: an order's total, a payment, a ticket's price."
    amount: Money
    "The event's payload without personal data: no email, name, user, buyer or seller id."
    data: JSON!
  }

  "One minute of activity."
  type OpsMinute {
    "The minute's start."
    at: DateTime!
    "Orders placed."
    orders: Int!
    "Orders completed (paid)."
    sales: Int!
    "Orders that expired unpaid."
    expiries: Int!
    "Orders cancelled."
    cancellations: Int!
    "Payments refunded."
    refunds: Int!
    "The totals of the minute's sales, one per currency (amounts in different currencies are never added)."
    revenue: [Money!]!
  }

  "How far behind one of the services' durable consumers is."
  type OpsConsumer {
    name: String!
    "Events on the stream not yet given to the consumer."
    pending: Int!
    "Events given out and not yet acknowledged."
    ackPending: Int!
    "Events given out more than once and not yet acknowledged."
    redelivered: Int!
    "pending + ackPending is at or above backlogThreshold."
    behind: Boolean!
  }

  "The last minutes of activity, counted by the gateway from the event stream."
  type OpsActivity {
    "Oldest first; the last one is the current, still running minute."
    minutes: [OpsMinute!]!
    "The last event counted: opsFeed(since: cursor) goes on from there without counting one twice."
    cursor: String!
    "The durable consumers' backlog, read every few seconds; empty until first read."
    consumers: [OpsConsumer!]!
    "When the backlog was read."
    consumersReadAt: DateTime
    "Events waiting at which a consumer counts as behind."
    backlogThreshold: Int!
  }

  "Any JSON value."
  scalar JSON

  extend schema {
    subscription: Subscription
  }

  extend type Query {
    "Per-minute counts of the last minutes (1 to 60) and the consumers' backlog. OPS only; served on the WebSocket."
    opsActivity(minutes: Int = 60): OpsActivity!
  }

  type Subscription {
    "A ticket of the event each time it is listed, changed, reserved, released, sold or withdrawn. Anyone."
    ticketChanged(eventId: ID!): Ticket!
    "Every domain event, live; with since, first every event after that cursor. OPS only."
    opsFeed(since: String): OpsEvent!
  }
`;

/** Query fields the gateway answers itself, on the WebSocket (the supergraph has none of them). */
export const LIVE_QUERY_FIELDS: ReadonlySet<string> = new Set(["opsActivity"]);

const JSONScalar = new GraphQLScalarType({
  name: "JSON",
  description: "Any JSON value.",
  serialize: (value) => value,
});

/** The API schema with `Subscription`, `Query.opsActivity` and their types. */
export function liveSchema(apiSchema: GraphQLSchema): GraphQLSchema {
  const extended = extendSchema(apiSchema, parse(SUBSCRIPTION_SDL));
  const json = extended.getType("JSON") as GraphQLScalarType;
  json.serialize = JSONScalar.serialize;
  return extended;
}
