// An event as ops see it: what happened, in words, with the ids of what it happened to and the
// amount it moved, and never a person's data. The stream is internal and carries emails, names
// and user ids; none of them leaves the gateway: the description is written here, and the
// payload passed on keeps only the fields listed for its subject.
import type { Envelope, Money, Subject } from "@ticketing/shared-events";

/** The part of the system an event is about, for filtering the feed. */
export type OpsKind =
  "event" | "ticket" | "order" | "payment" | "pass" | "expiration" | "user" | "session" | "apikey";

export interface OpsView {
  kind: OpsKind;
  description: string;
  eventId: string | null;
  ticketId: string | null;
  orderId: string | null;
  amount: Money | null;
  /** The payload without anything about a person. */
  data: Record<string, unknown>;
}

/** What is known of tickets and orders from earlier events, to say which event and how much. */
export interface OpsLookup {
  ticket(ticketId: string): { eventId: string } | undefined;
  order(orderId: string): { ticketId: string; total: Money } | undefined;
}

/**
 * The payload fields that may leave the gateway, per subject. Whatever is not listed (emails,
 * display names, buyer, seller and user ids, session ids, key hashes) is dropped, so a field added
 * to a payload later stays inside until someone decides it may go out.
 */
const SAFE_FIELDS: { [S in Subject]: readonly string[] } = {
  "ticketing.event.created": ["id", "name", "venue", "city", "startsAt", "category"],
  "ticketing.event.resale_policy_set": ["id", "resalePriceCap", "unverifiedListingsAllowed"],
  "ticketing.ticket.created": ["id", "eventId", "title", "section", "price", "status", "orderId", "version"],
  "ticketing.ticket.updated": ["id", "eventId", "title", "section", "price", "status", "orderId", "version"],
  "ticketing.ticket.reservation_rejected": ["ticketId", "orderId", "reason"],
  "ticketing.order.created": ["id", "ticketId", "total", "createdAt", "expiresAt"],
  "ticketing.order.cancelled": ["id", "ticketId", "reason"],
  "ticketing.order.expired": ["id", "ticketId"],
  "ticketing.order.completed": ["id", "ticketId", "paymentId"],
  "ticketing.order.refund_required": ["id", "ticketId", "paymentId"],
  "ticketing.expiration.due": ["orderId"],
  "ticketing.pass.issued": ["id", "eventId", "ticketId", "issue", "status", "orderId", "title", "section"],
  "ticketing.pass.transfer_offered": ["id", "eventId", "ticketId", "issue", "status"],
  "ticketing.pass.transfer_cancelled": ["id", "eventId", "ticketId", "issue", "status"],
  "ticketing.pass.reissued": ["id", "eventId", "ticketId", "issue", "status", "reason", "orderId"],
  "ticketing.pass.checked_in": ["id", "eventId", "ticketId", "issue", "status"],
  "ticketing.pass.listed": ["id", "eventId", "ticketId", "issue", "status", "listingTicketId"],
  "ticketing.pass.unlisted": ["id", "eventId", "ticketId", "issue", "status"],
  "ticketing.pass.listing_rejected": ["passId", "ticketId"],
  "ticketing.payment.started": ["id", "orderId", "amount"],
  "ticketing.payment.failed": ["id", "orderId", "reason"],
  "ticketing.payment.succeeded": ["id", "orderId", "amount"],
  "ticketing.payment.refunded": ["id", "orderId", "amount"],
  "ticketing.user.registered": ["roles"],
  "ticketing.session.started": ["expiresAt"],
  "ticketing.session.revoked": [],
  "ticketing.apikey.created": ["id", "name", "requestsPerMinute"],
  "ticketing.apikey.revoked": ["id"],
};

export function safeData(event: Envelope): Record<string, unknown> {
  const data = event.data as Record<string, unknown>;
  return Object.fromEntries(
    SAFE_FIELDS[event.subject].filter((field) => field in data).map((field) => [field, data[field]]),
  );
}

/** "EUR 30.00": the amount in major units with the currency's code, never a float's noise. */
export function formatMoney({ amount, currency }: Money): string {
  const digits =
    new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  const major = digits === 0 ? String(amount) : (amount / 10 ** digits).toFixed(digits);
  return `${currency} ${major}`;
}

const kindOf = (subject: Subject) => subject.split(".")[1] as OpsKind;

/** The event in words, with the ids and amount it concerns; `lookup` fills in what it omits. */
export function describe(event: Envelope, lookup: OpsLookup): OpsView {
  let description: string;
  let ticketId: string | null = null;
  let orderId: string | null = null;
  let eventId: string | null = null;
  let amount: Money | null = null;
  const ofTicket = (id: string) => {
    ticketId = id;
    eventId = lookup.ticket(id)?.eventId ?? null;
    return eventId ? `ticket ${id} of event ${eventId}` : `ticket ${id}`;
  };
  const ofOrder = (id: string) => {
    orderId = id;
    const order = lookup.order(id);
    if (order) {
      amount ??= order.total;
      return `order ${id} (${ofTicket(order.ticketId)})`;
    }
    return `order ${id}`;
  };

  switch (event.subject) {
    case "ticketing.event.created":
      eventId = event.data.id;
      description = `Event ${event.data.id} "${event.data.name}" created at ${event.data.venue}, ${event.data.city}`;
      break;
    case "ticketing.ticket.created":
      amount = event.data.price;
      eventId = event.data.eventId;
      ticketId = event.data.id;
      description = `Ticket ${event.data.id} listed for event ${event.data.eventId} at ${formatMoney(event.data.price)}`;
      break;
    case "ticketing.ticket.updated":
      amount = event.data.price;
      eventId = event.data.eventId;
      ticketId = event.data.id;
      description = `Ticket ${event.data.id} of event ${event.data.eventId} is now ${event.data.status.toLowerCase()} at ${formatMoney(event.data.price)}`;
      break;
    case "ticketing.ticket.reservation_rejected":
      description = `Reservation of ${ofTicket(event.data.ticketId)} for order ${event.data.orderId} rejected: ticket ${event.data.reason === "WITHDRAWN" ? "withdrawn" : "unavailable"}`;
      orderId = event.data.orderId;
      break;
    case "ticketing.order.created":
      amount = event.data.total;
      orderId = event.data.id;
      description = `Order ${event.data.id} placed for ${ofTicket(event.data.ticketId)}: ${formatMoney(event.data.total)}, held until ${event.data.expiresAt}`;
      break;
    case "ticketing.order.cancelled":
      description = `Order ${event.data.id} cancelled ${event.data.reason === "BUYER_CANCELLED" ? "by the buyer" : "(ticket unavailable)"}; ${ofTicket(event.data.ticketId)} released`;
      orderId = event.data.id;
      break;
    case "ticketing.order.expired":
      description = `Order ${event.data.id} expired unpaid; ${ofTicket(event.data.ticketId)} released`;
      orderId = event.data.id;
      break;
    case "ticketing.order.completed": {
      const total = lookup.order(event.data.id)?.total;
      if (total) amount = total;
      description = `Sale: order ${event.data.id} paid${total ? ` ${formatMoney(total)}` : ""}; ${ofTicket(event.data.ticketId)} sold`;
      orderId = event.data.id;
      break;
    }
    case "ticketing.order.refund_required":
      description = `Order ${event.data.id} was paid after it ended; payment ${event.data.paymentId} to be refunded (${ofTicket(event.data.ticketId)})`;
      orderId = event.data.id;
      break;
    case "ticketing.pass.issued":
      description = `Pass ${event.data.id} issued for ${ofOrder(event.data.orderId)}`;
      eventId = event.data.eventId;
      ticketId = event.data.ticketId;
      break;
    case "ticketing.pass.transfer_offered":
      eventId = event.data.eventId;
      ticketId = event.data.ticketId;
      description = `Pass ${event.data.id} of event ${event.data.eventId} offered to another account`;
      break;
    case "ticketing.pass.transfer_cancelled":
      eventId = event.data.eventId;
      ticketId = event.data.ticketId;
      description = `Transfer of pass ${event.data.id} of event ${event.data.eventId} cancelled`;
      break;
    case "ticketing.pass.reissued":
      eventId = event.data.eventId;
      ticketId = event.data.ticketId;
      description = `Pass ${event.data.id} of event ${event.data.eventId} ${event.data.reason === "TRANSFER" ? "transferred" : "resold"}: issue ${event.data.issue}, earlier codes void`;
      break;
    case "ticketing.event.resale_policy_set":
      eventId = event.data.id;
      description = `Event ${event.data.id}: resale ${event.data.resalePriceCap ? `capped at ${formatMoney(event.data.resalePriceCap)}` : "uncapped"}, ${event.data.unverifiedListingsAllowed ? "free-text listings allowed" : "verified listings only"}`;
      break;
    case "ticketing.pass.listed":
      eventId = event.data.eventId;
      description = `Pass ${event.data.id} of event ${event.data.eventId} listed for resale as ticket ${event.data.listingTicketId ?? ""}`;
      ticketId = event.data.listingTicketId;
      break;
    case "ticketing.pass.unlisted":
      eventId = event.data.eventId;
      ticketId = event.data.ticketId;
      description = `Pass ${event.data.id} of event ${event.data.eventId} no longer listed for resale`;
      break;
    case "ticketing.pass.listing_rejected":
      ticketId = event.data.ticketId;
      description = `Resale listing ${event.data.ticketId} of pass ${event.data.passId} rejected: the pass had moved on`;
      break;
    case "ticketing.pass.checked_in":
      eventId = event.data.eventId;
      ticketId = event.data.ticketId;
      description = `Pass ${event.data.id} checked in at event ${event.data.eventId}`;
      break;
    case "ticketing.expiration.due":
      description = `Hold of ${ofOrder(event.data.orderId)} is due to expire`;
      break;
    case "ticketing.payment.started":
      amount = event.data.amount;
      description = `Payment ${event.data.id} started for ${ofOrder(event.data.orderId)}: ${formatMoney(event.data.amount)}`;
      break;
    case "ticketing.payment.failed":
      description = `Payment ${event.data.id} failed for ${ofOrder(event.data.orderId)}: ${event.data.reason}`;
      break;
    case "ticketing.payment.succeeded":
      amount = event.data.amount;
      description = `Payment ${event.data.id} succeeded for ${ofOrder(event.data.orderId)}: ${formatMoney(event.data.amount)}`;
      break;
    case "ticketing.payment.refunded":
      amount = event.data.amount;
      description = `Payment ${event.data.id} refunded for ${ofOrder(event.data.orderId)}: ${formatMoney(event.data.amount)}`;
      break;
    case "ticketing.user.registered":
      description = event.data.roles.includes("OPS") ? "An operator signed up" : "A user signed up";
      break;
    case "ticketing.session.started":
      description = "A session started";
      break;
    case "ticketing.session.revoked":
      description = "A session ended";
      break;
    case "ticketing.apikey.created":
      description = `Partner API key ${event.data.id} "${event.data.name}" created`;
      break;
    case "ticketing.apikey.revoked":
      description = `Partner API key ${event.data.id} revoked`;
      break;
  }
  return {
    kind: kindOf(event.subject),
    description,
    eventId,
    ticketId,
    orderId,
    amount,
    data: safeData(event),
  };
}
