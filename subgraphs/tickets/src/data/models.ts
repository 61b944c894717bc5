// What tickets keeps, declared once: each collection's documents and indexes as a mongoose schema.
// The one file of the package that imports mongoose; which paths go through mongoose and which
// through the driver collection is docs/adr/0002-mongoose-models.md.
import type { ProjectionDocument } from "@ticketing/shared-events";
import { Schema, type Connection, type QueryFilter } from "mongoose";
import { logSchema, SCHEMA_OPTIONS, withIndexes } from "@ticketing/shared-runtime";
import { EVENT_LOG, type EventState } from "../domain/catalog.js";
import { TICKET_LOG, type TicketState } from "../domain/tickets.js";

export type EventDocument = ProjectionDocument<EventState>;
export type TicketDocument = ProjectionDocument<TicketState>;
export type EventFilter = QueryFilter<EventDocument>;
export type TicketFilter = QueryFilter<TicketDocument>;

/** What a verified listing needs of a pass, copied from passes' `pass.*` events (newest version). */
export interface PassReplica {
  _id: string;
  eventId: string;
  holderId: string;
  issue: number;
  status: "VALID" | "CHECKED_IN" | "VOID";
  listingTicketId: string | null;
  title: string;
  section: string | null;
  /** The pass's version in passes' log. */
  version: number;
}

/** How an order ended, as far as tickets has heard (see events/orders.ts). */
export interface OrderOutcome {
  _id: string;
  ticketId: string;
  outcome: "RELEASED" | "SOLD";
  at: Date;
}

const eventEvents = logSchema(EVENT_LOG.logCollection);
const ticketEvents = logSchema(TICKET_LOG.logCollection);

const events = new Schema<EventDocument>(
  {
    _id: String,
    id: String,
    name: String,
    venue: String,
    city: String,
    startsAt: String,
    category: String,
    cityKey: String,
    categoryKey: String,
    resalePriceCap: { amount: Number, currency: String },
    unverifiedListingsAllowed: Boolean,
    version: Number,
    _causes: [String],
  } satisfies Record<keyof EventDocument, unknown>,
  { ...SCHEMA_OPTIONS, collection: EVENT_LOG.projectionCollection },
);
// Browse: by date, within a city or a category, in (startsAt, id) order. MongoDB uses these;
// FerretDB 1.24 scans.
events.index({ startsAt: 1, _id: 1 });
events.index({ cityKey: 1, startsAt: 1, _id: 1 });
events.index({ categoryKey: 1, startsAt: 1, _id: 1 });

const tickets = new Schema<TicketDocument>(
  {
    _id: String,
    id: String,
    eventId: String,
    sellerId: String,
    title: String,
    section: String,
    price: { amount: Number, currency: String },
    status: String,
    orderId: String,
    version: Number,
    listedAt: String,
    _causes: [String],
  } satisfies Record<keyof TicketDocument, unknown>,
  { ...SCHEMA_OPTIONS, collection: TICKET_LOG.projectionCollection },
);
// An event's tickets newest first, its available ones (summaries), a seller's listings.
tickets.index({ eventId: 1, listedAt: -1, _id: -1 });
tickets.index({ eventId: 1, status: 1 });
tickets.index({ sellerId: 1 });

/** Written through mongoose (validated) once per ended order; the insert by `_id` decides. */
const orderOutcomes = new Schema<OrderOutcome>(
  {
    _id: { type: String, required: true },
    ticketId: { type: String, required: true },
    outcome: { type: String, required: true, enum: ["RELEASED", "SOLD"] },
    at: { type: Date, required: true },
  } satisfies Record<keyof OrderOutcome, unknown>,
  { ...SCHEMA_OPTIONS, collection: "order_outcomes" },
);

const passReplica = new Schema<PassReplica>(
  {
    _id: String,
    eventId: String,
    holderId: String,
    issue: Number,
    status: String,
    listingTicketId: String,
    title: String,
    section: String,
    version: Number,
  } satisfies Record<keyof PassReplica, unknown>,
  { ...SCHEMA_OPTIONS, collection: "pass_replica" },
);

/**
 * Compiles the models on the service's connection and creates their indexes before anything uses
 * them: mongoose sends one `createIndex` per index, one after another (FerretDB drops the
 * connection on a `createIndexes` naming two or more that exist).
 */
export async function openModels(connection: Connection) {
  return withIndexes({
    eventEvents: connection.model("EventEvent", eventEvents),
    events: connection.model("Event", events),
    ticketEvents: connection.model("TicketEvent", ticketEvents),
    tickets: connection.model("Ticket", tickets),
    orderOutcomes: connection.model("OrderOutcome", orderOutcomes),
    passReplica: connection.model("PassReplica", passReplica),
  });
}

export type TicketsModels = Awaited<ReturnType<typeof openModels>>;
