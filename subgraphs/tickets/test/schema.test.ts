import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";
import { buildTicketsSchema } from "../src/schema/index.js";

it("has a committed schema.graphql equal to the generated SDL (run `npm run schema`)", async () => {
  const committed = await readFile(new URL("../schema.graphql", import.meta.url), "utf8");
  const { sdl } = await buildTicketsSchema();
  expect(committed).toBe(sdl);
});

it("offers the catalog and selling part of the contract", async () => {
  const { sdl } = await buildTicketsSchema();
  for (const line of [
    'type Event\n  @key(fields: "id")',
    'type Ticket\n  @key(fields: "id")',
    'type User\n  @key(fields: "id", resolvable: false)',
    "events(\n    after: String\n    filter: EventFilter\n",
    "first: Int\n    orderBy: EventOrder\n  ): EventConnection!",
    "event(id: ID!): Event\n",
    "ticket(id: ID!): Ticket\n",
    "myListings: [Ticket!]!",
    "createEvent(input: CreateEventInput!): Event!",
    "listTicket(input: ListTicketInput!): Ticket!",
    "updateTicket(id: ID!, input: UpdateTicketInput!): Ticket!",
    "withdrawTicket(id: ID!): Ticket!",
    "availableTickets: Int!",
    "lowestPrice: Money\n",
    "): TicketConnection!",
    "enum TicketStatus {\n  AVAILABLE\n  RESERVED\n  SOLD\n  WITHDRAWN\n}",
    "startsAt: DateTime!",
  ]) {
    expect(sdl).toContain(line);
  }
});
