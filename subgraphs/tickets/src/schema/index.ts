import "reflect-metadata";
import { buildSubgraphSchemaFromTypeGraphQL, type SubgraphSchema } from "@ticketing/shared-runtime";
import type { TicketsContext } from "./context.js";
import { eventReference, EventResolver } from "./event.js";
import { ticketReference, TicketResolver } from "./ticket.js";

/** The tickets subgraph's executable schema and its SDL (what `schema.graphql` holds). */
export function buildTicketsSchema(): Promise<SubgraphSchema> {
  return buildSubgraphSchemaFromTypeGraphQL<TicketsContext>({
    resolvers: [EventResolver, TicketResolver],
    referenceResolvers: { Event: eventReference, Ticket: ticketReference },
  });
}
