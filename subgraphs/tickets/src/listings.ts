import { randomUUID } from "node:crypto";
import {
  ConcurrencyError,
  parseResaleListingId,
  resaleListingId,
  type Money,
} from "@ticketing/shared-events";
import {
  badUserInput,
  conflict,
  forbidden,
  notFound,
  type Identity,
  decodeCursor,
  pageSize,
  toPage,
  type Page,
} from "@ticketing/shared-runtime";
import { GraphQLError } from "graphql";
import type { CatalogReads } from "./data/reads.js";
import type { EventLog, TicketLog } from "./data/logs.js";
import type { PassReplicas } from "./data/passes.js";
import type { EventState } from "./domain/catalog.js";
import { ticketUpdate, type TicketState } from "./domain/tickets.js";
import { money, validateChanges, validateListing, type ListingFields } from "./validation.js";

export interface ListTicketFields {
  eventId: string;
  title: string;
  section?: string | null;
  price: Money;
}

export interface UpdateTicketFields {
  title?: string | null;
  section?: string | null;
  price?: Money | null;
  expectedVersion?: number | null;
}

export interface Listings {
  list(seller: Identity, input: ListTicketFields, requestId?: string): Promise<TicketState>;
  /** A verified listing of a pass the seller holds: event, title and section from the pass. */
  listPass(
    seller: Identity,
    input: { passId: string; price: Money },
    requestId?: string,
  ): Promise<TicketState>;
  update(seller: Identity, id: string, input: UpdateTicketFields, requestId?: string): Promise<TicketState>;
  withdraw(seller: Identity, id: string, requestId?: string): Promise<TicketState>;
  /** Lists a ticket under `id` unless it exists; for the demo catalog, whose ids are fixed. */
  ensureListing(id: string, sellerId: string, fields: ListingFields): Promise<TicketState>;
  ticket(id: string): Promise<TicketState | null>;
  mine(sellerId: string): Promise<TicketState[]>;
  ofEvent(eventId: string, first?: number | null, after?: string | null): Promise<Page<TicketState>>;
}

/** Many sellers' edits and the reservations race on one ticket; each attempt that loses reloads. */
const MAX_ATTEMPTS = 200;

/** "EUR 42.00": the amount in major units with the currency's code. */
function formatMoney({ amount, currency }: Money): string {
  const digits =
    new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return `${currency} ${digits === 0 ? String(amount) : (amount / 10 ** digits).toFixed(digits)}`;
}

/** BAD_USER_INPUT naming the cap when `price` is above the event's resale price cap. */
export function checkResaleCap(event: Pick<EventState, "resalePriceCap"> | null, price: Money): void {
  const cap = event?.resalePriceCap;
  if (!cap) return;
  if (price.currency !== cap.currency || price.amount > cap.amount) {
    throw new GraphQLError(`The price is above this event's resale price cap of ${formatMoney(cap)}`, {
      extensions: { code: "BAD_USER_INPUT", field: "price", cap },
    });
  }
}

export function createListings({
  tickets,
  events,
  reads,
  passes,
}: {
  tickets: TicketLog;
  events: EventLog;
  reads: CatalogReads;
  passes: PassReplicas;
}): Listings {
  async function create(id: string, sellerId: string, fields: ListingFields, requestId?: string) {
    const result = await tickets.execute(
      id,
      (current) =>
        current
          ? null
          : {
              subject: "ticketing.ticket.created",
              data: { id, sellerId, ...fields, status: "AVAILABLE", orderId: null, version: 1 },
            },
      { requestId },
    );
    if (!result.state) throw new Error(`ticket ${id} is missing after its listing`);
    return result.state;
  }

  /** A seller's change: decided on the latest version, refused on a stale `expectedVersion`. */
  async function change(
    seller: Identity,
    id: string,
    expectedVersion: number | null | undefined,
    decide: (ticket: TicketState) => ReturnType<typeof ticketUpdate> | null,
    requestId?: string,
  ): Promise<TicketState> {
    const guard = (ticket: TicketState | null): TicketState => {
      if (!ticket) throw notFound("No ticket has this id");
      if (ticket.sellerId !== seller.userId) throw forbidden("Only the seller can change this ticket");
      if (ticket.status === "RESERVED" || ticket.status === "SOLD") {
        throw conflict(`The ticket is ${ticket.status.toLowerCase()} and cannot be changed`);
      }
      return ticket;
    };
    try {
      const result = await tickets.execute(id, (current) => decide(guard(current)), {
        expectedVersion: expectedVersion ?? undefined,
        requestId,
        maxAttempts: MAX_ATTEMPTS,
      });
      return guard(result.state);
    } catch (error) {
      if (!(error instanceof ConcurrencyError)) throw error;
      // Report why the caller's version is stale where that says more (gone, not theirs, reserved).
      const current = guard(await tickets.load(id));
      throw conflict(
        `The ticket changed meanwhile; it is at version ${current.version}${
          expectedVersion === null || expectedVersion === undefined ? "" : `, not ${expectedVersion}`
        }`,
      );
    }
  }

  return {
    async list(seller, input, requestId) {
      const fields = validateListing(input);
      const event = await events.load(fields.eventId);
      if (!event) {
        throw new GraphQLError("No event has this id", {
          extensions: { code: "NOT_FOUND", field: "eventId" },
        });
      }
      if (event.unverifiedListingsAllowed === false) {
        throw badUserInput("This event allows only verified resale of passes (listPass)", "eventId");
      }
      checkResaleCap(event, fields.price);
      return create(randomUUID(), seller.userId, fields, requestId);
    },

    async listPass(seller, input, requestId) {
      if (typeof input.passId !== "string" || input.passId.length === 0 || input.passId.length > 200) {
        throw badUserInput("passId is not a pass id", "passId");
      }
      const price = money(input.price, "price");
      const pass = await passes.pass(input.passId);
      if (!pass) throw notFound("No pass has this id");
      if (pass.holderId !== seller.userId) throw forbidden("Only the pass's holder can resell it");
      if (pass.status !== "VALID")
        throw conflict(`This pass is ${pass.status.toLowerCase().replace("_", " ")}`);
      const id = resaleListingId(pass._id, pass.issue);
      if (pass.listingTicketId !== null && pass.listingTicketId !== id)
        throw conflict("This pass is listed already");
      checkResaleCap(await events.load(pass.eventId), price);
      const fields: ListingFields = {
        eventId: pass.eventId,
        title: pass.title,
        section: pass.section,
        price,
      };
      // The listing's id is the pass's issue: its first append is the one listing of that issue.
      const result = await tickets.execute(
        id,
        (current) => {
          if (!current) {
            return {
              subject: "ticketing.ticket.created",
              data: {
                id,
                sellerId: seller.userId,
                ...fields,
                status: "AVAILABLE",
                orderId: null,
                version: 1,
              },
            };
          }
          if (current.status !== "WITHDRAWN") throw conflict("This pass is listed already");
          return ticketUpdate(current, { status: "AVAILABLE", price });
        },
        { requestId, maxAttempts: MAX_ATTEMPTS },
      );
      if (!result.state) throw new Error(`ticket ${id} is missing after its listing`);
      return result.state;
    },

    async update(seller, id, input, requestId) {
      const changes = validateChanges(input);
      if (changes.price) {
        const current = await reads.ticket(id);
        if (current) checkResaleCap(await events.load(current.eventId), changes.price);
      }
      return change(
        seller,
        id,
        input.expectedVersion,
        (ticket) => {
          if (ticket.status === "WITHDRAWN") throw conflict("The ticket is withdrawn and cannot be changed");
          if (
            parseResaleListingId(ticket.id) &&
            (changes.title !== undefined || changes.section !== undefined)
          ) {
            throw badUserInput("A verified listing shows its pass's title and section", "title");
          }
          const same =
            (changes.title === undefined || changes.title === ticket.title) &&
            (changes.section === undefined || changes.section === ticket.section) &&
            (changes.price === undefined ||
              (changes.price.amount === ticket.price.amount &&
                changes.price.currency === ticket.price.currency));
          return same ? null : ticketUpdate(ticket, changes);
        },
        requestId,
      );
    },

    withdraw(seller, id, requestId) {
      return change(
        seller,
        id,
        undefined,
        (ticket) => (ticket.status === "WITHDRAWN" ? null : ticketUpdate(ticket, { status: "WITHDRAWN" })),
        requestId,
      );
    },

    ensureListing: (id, sellerId, fields) => create(id, sellerId, fields),
    ticket: (id) => reads.ticket(id),
    mine: (sellerId) => reads.ticketsOfSeller(sellerId),

    async ofEvent(eventId, first, after) {
      const size = pageSize(first);
      const rows = await reads.ticketsOfEvent(eventId, decodeCursor(after), size + 1);
      return toPage(rows, size, (ticket) => [ticket.listedAt, ticket.id]);
    },
  };
}
