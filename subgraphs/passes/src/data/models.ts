// What passes keeps, declared once: each collection's documents and indexes as a mongoose schema.
// The one file of the package that imports mongoose; which paths go through mongoose and which
// through the driver collection is docs/adr/0002-mongoose-models.md.
import type { ProjectionDocument } from "@ticketing/shared-events";
import { Schema, type Connection } from "mongoose";
import { logSchema, SCHEMA_OPTIONS, withIndexes } from "@ticketing/shared-runtime";
import type { StoredPassKey } from "../codes.js";
import { PASS_LOG, type PassState } from "../domain/passes.js";

/** Who bought an order's ticket, from orders' `order.created`. */
export interface OrderReplica {
  _id: string;
  ticketId: string;
  buyerId: string;
}

/** What a pass shows of the ticket it is for, from tickets' `ticket.*` events. */
export interface TicketReplica {
  _id: string;
  eventId: string;
  title: string;
  section: string | null;
  version: number;
}

/** An account by its email, from auth's `user.registered`: whom a transfer is offered to. */
export interface UserEmail {
  _id: string;
  userId: string;
}

export type KeyDocument = StoredPassKey & { _id: string };
export type PassDocument = ProjectionDocument<PassState>;

const passEvents = logSchema(PASS_LOG.logCollection);

const passes = new Schema<PassDocument>(
  {
    _id: String,
    id: String,
    eventId: String,
    ticketId: String,
    orderId: String,
    title: String,
    section: String,
    holderId: String,
    issue: Number,
    status: String,
    listingTicketId: String,
    checkedInAt: String,
    checkedInBy: String,
    pendingTransfer: Schema.Types.Mixed,
    holdings: Schema.Types.Mixed,
    holderIds: [String],
    version: Number,
    _causes: [String],
  } satisfies Record<keyof PassDocument, unknown>,
  { ...SCHEMA_OPTIONS, collection: PASS_LOG.projectionCollection },
);
// A fan's passes, held now or before; the transfers offered to someone.
passes.index({ holderIds: 1 });
passes.index({ "pendingTransfer.toId": 1 });

const orderReplica = new Schema<OrderReplica>(
  { _id: String, ticketId: String, buyerId: String } satisfies Record<keyof OrderReplica, unknown>,
  { ...SCHEMA_OPTIONS, collection: "order_replica" },
);

const ticketReplica = new Schema<TicketReplica>(
  {
    _id: String,
    eventId: String,
    title: String,
    section: String,
    version: Number,
  } satisfies Record<keyof TicketReplica, unknown>,
  { ...SCHEMA_OPTIONS, collection: "ticket_replica" },
);

const userEmails = new Schema<UserEmail>(
  { _id: String, userId: String } satisfies Record<keyof UserEmail, unknown>,
  { ...SCHEMA_OPTIONS, collection: "user_emails" },
);

const passKeys = new Schema<KeyDocument>(
  {
    _id: String,
    keyId: String,
    privateKeyPem: String,
    x: String,
    createdAt: Date,
  } satisfies Record<keyof KeyDocument, unknown>,
  { ...SCHEMA_OPTIONS, collection: "pass_keys" },
);

/**
 * Compiles the models on the service's connection and creates their indexes before anything uses
 * them, one `createIndex` at a time (FerretDB drops the connection on a `createIndexes` naming two
 * or more that exist).
 */
export async function openModels(connection: Connection) {
  return withIndexes({
    passEvents: connection.model("PassEvent", passEvents),
    passes: connection.model("Pass", passes),
    orderReplica: connection.model("OrderReplica", orderReplica),
    ticketReplica: connection.model("TicketReplica", ticketReplica),
    userEmails: connection.model("UserEmail", userEmails),
    passKeys: connection.model("PassKey", passKeys),
  });
}

export type PassesModels = Awaited<ReturnType<typeof openModels>>;
