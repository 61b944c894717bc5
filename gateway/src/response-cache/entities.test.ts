import { buildSchema, parse } from "graphql";
import { describe, expect, it } from "vitest";
import { reachedBy, responseTags } from "./entities.js";

const schema = buildSchema(/* GraphQL */ `
  type Query {
    event(id: ID!): Event
    events(first: Int): EventConnection!
    ticket(id: ID!): Ticket
    search(text: String!): [Result!]!
  }
  type Event {
    id: ID!
    name: String!
    tickets(first: Int): TicketConnection!
  }
  type EventConnection {
    edges: [EventEdge!]!
  }
  type EventEdge {
    node: Event!
  }
  type TicketConnection {
    edges: [TicketEdge!]!
  }
  type TicketEdge {
    node: Ticket!
  }
  type Ticket {
    id: ID!
    price: Money!
    seller: User!
    event: Event!
  }
  type Money {
    amount: Int!
  }
  type User {
    id: ID!
    displayName: String!
  }
  union Result = Event | Ticket
`);

const tags = (query: string, data: Record<string, unknown>, variables?: Record<string, unknown>) =>
  [...responseTags(schema, parse(query), undefined, variables, data)].sort();

describe("the entities a response shows", () => {
  it("names every object with an id, through aliases, fragments and lists", () => {
    const query = /* GraphQL */ `
      query ($id: ID!) {
        show: event(id: $id) {
          key: id
          tickets {
            edges {
              node {
                ...T
              }
            }
          }
        }
      }
      fragment T on Ticket {
        id
        price {
          amount
        }
        seller {
          ... on User {
            id
          }
        }
      }
    `;
    const data = {
      show: {
        key: "e1",
        tickets: {
          edges: [
            { node: { id: "t1", price: { amount: 1 }, seller: { id: "u1" } } },
            { node: { id: "t2", price: { amount: 2 }, seller: { id: "u2" } } },
          ],
        },
      },
    };
    expect(tags(query, data, { id: "e1" })).toEqual([
      "Event:e1",
      "Query.event",
      "Ticket:t1",
      "Ticket:t2",
      "User:u1",
      "User:u2",
    ]);
  });

  it("names a root field's entity by its id argument, also when the answer is null", () => {
    expect(tags(`{ ticket(id: "t9") { id } }`, { ticket: null })).toEqual(["Query.ticket", "Ticket:t9"]);
  });

  it("stands an object whose id was not selected for every object of its type", () => {
    const query = `{ events { edges { node { name tickets { edges { node { seller { displayName } } } } } } } }`;
    const data = {
      events: {
        edges: [{ node: { name: "A", tickets: { edges: [{ node: { seller: { displayName: "S" } } }] } } }],
      },
    };
    expect(tags(query, data)).toEqual(["Event:*", "Query.events", "Ticket:*", "User:*"]);
    expect(reachedBy("User:u1")).toEqual(["User:u1", "User:*"]);
    expect(reachedBy("Query.events")).toEqual(["Query.events"]);
  });

  it("follows an abstract type by __typename, or every type it may be", () => {
    const query = `{ search(text: "x") { ... on Event { id } ... on Ticket { id } } }`;
    expect(tags(query, { search: [{ __typename: "Ticket", id: "t1" }] })).toEqual([
      "Query.search",
      "Ticket:t1",
    ]);
    expect(tags(query, { search: [{ id: "x1" }] })).toEqual(["Event:x1", "Query.search", "Ticket:x1"]);
  });
});
