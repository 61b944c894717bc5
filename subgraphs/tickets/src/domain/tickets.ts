import type { Change, Envelope, Payload } from "@ticketing/shared-events";

export type TicketPayload = Payload<"ticketing.ticket.updated">;
export type TicketStatus = TicketPayload["status"];

/** A ticket as the `tickets` projection keeps it; `version` is its position in `ticket_events`. */
export interface TicketState extends TicketPayload {
  /** When it was listed (its first event); the order of `Event.tickets`, newest first. */
  listedAt: string;
}

export const TICKET_LOG = { logCollection: "ticket_events", projectionCollection: "tickets" } as const;
/**
 * What `ticket_events` holds. `ticket.reservation_rejected` is about a ticket too, but changes
 * nothing of it: it is published for orders, not logged.
 */
export type TicketSubject = "ticketing.ticket.created" | "ticketing.ticket.updated";

export function evolveTicket(
  state: TicketState | null,
  event: Envelope<TicketSubject>,
): Omit<TicketState, "version"> {
  switch (event.subject) {
    // Both carry the ticket's full state.
    case "ticketing.ticket.created":
    case "ticketing.ticket.updated": {
      const { version: _version, ...data } = event.data;
      return { ...data, listedAt: state?.listedAt ?? event.occurredAt };
    }
  }
}

type Editable = Pick<TicketPayload, "title" | "section" | "price" | "status" | "orderId">;

/** The next version of a ticket: `ticket.updated` carries the full state, as the catalogue says. */
export function ticketUpdate(
  state: TicketState,
  changes: Partial<Editable>,
): Change<"ticketing.ticket.updated"> {
  const next = { ...state, ...changes };
  return {
    subject: "ticketing.ticket.updated",
    data: {
      id: next.id,
      eventId: next.eventId,
      sellerId: next.sellerId,
      title: next.title,
      section: next.section,
      price: next.price,
      status: next.status,
      orderId: next.orderId,
      version: state.version + 1,
    },
  };
}
