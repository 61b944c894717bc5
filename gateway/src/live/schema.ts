// The schema of the gateway's WebSocket endpoint: the supergraph's API schema (so a subscription's
// selection set validates against the whole graph) extended with the Subscription type.
import { extendSchema, GraphQLScalarType, parse, type GraphQLSchema } from "graphql";

export const SUBSCRIPTION_SDL = /* GraphQL */ `
  "A domain event as published on the stream, for the ops feed."
  type OpsEvent {
    "The event's stream sequence: pass it as opsFeed(since:) to resume after it."
    cursor: String!
    "ticketing.<aggregate>.<what>, e.g. ticketing.order.created."
    subject: String!
    occurredAt: DateTime!
    "The event's payload as published."
    data: JSON!
  }

  "Any JSON value."
  scalar JSON

  extend schema {
    subscription: Subscription
  }

  type Subscription {
    "A ticket of the event each time it is listed, changed, reserved, released, sold or withdrawn. Anyone."
    ticketChanged(eventId: ID!): Ticket!
    "Every domain event, live; with since, first every event after that cursor. OPS only."
    opsFeed(since: String): OpsEvent!
  }
`;

const JSONScalar = new GraphQLScalarType({
  name: "JSON",
  description: "Any JSON value.",
  serialize: (value) => value,
});

/** The API schema with `Subscription`, `OpsEvent` and `JSON`. */
export function liveSchema(apiSchema: GraphQLSchema): GraphQLSchema {
  const extended = extendSchema(apiSchema, parse(SUBSCRIPTION_SDL));
  const json = extended.getType("JSON") as GraphQLScalarType;
  json.serialize = JSONScalar.serialize;
  return extended;
}
