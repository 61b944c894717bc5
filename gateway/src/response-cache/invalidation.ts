// Which cached responses a domain event makes stale, as the tags of entities.ts. Only the
// aggregates the public graph shows are followed: an order or a payment changes what the public
// sees only through the ticket event tickets publishes for it (RESERVED, AVAILABLE, SOLD).
import { subjects, type Envelope, type Subject } from "@ticketing/shared-events";
import { entityTag, rootFieldTag } from "./entities.js";

export type FollowedSubject = Extract<
  Subject,
  `ticketing.ticket.${string}` | `ticketing.event.${string}` | `ticketing.user.${string}`
>;

const FOLLOWED_PREFIXES = ["ticketing.ticket.", "ticketing.event.", "ticketing.user."];

/** Every subject of those aggregates in the catalogue; `tagsOf` must name what each one changes. */
export const FOLLOWED_SUBJECTS = subjects.filter((subject): subject is FollowedSubject =>
  FOLLOWED_PREFIXES.some((prefix) => subject.startsWith(prefix)),
);

/**
 * The tags an event reaches. A new subject of these aggregates does not compile until it is
 * handled here.
 */
export function tagsOf(event: Envelope<FollowedSubject>): string[] {
  switch (event.subject) {
    case "ticketing.ticket.created":
    case "ticketing.ticket.updated":
      // The ticket, and its event: the event's ticket list, count of available tickets and
      // lowest price, wherever a response shows them.
      return [entityTag("Ticket", event.data.id), entityTag("Event", event.data.eventId)];
    case "ticketing.ticket.reservation_rejected":
      return [entityTag("Ticket", event.data.ticketId)];
    case "ticketing.event.created":
      return [entityTag("Event", event.data.id), rootFieldTag("events")];
    case "ticketing.event.resale_policy_set":
      return [entityTag("Event", event.data.id)];
    case "ticketing.user.registered":
      return [entityTag("User", event.data.id)];
  }
}
