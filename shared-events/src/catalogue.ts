// The event catalogue: every subject on the TICKETING stream, its payload schema and type.
// Published shapes never change; a new shape is a new subject.
import { z } from "zod";

export const STREAM = "TICKETING";
export const SUBJECT_PREFIX = "ticketing";

const id = z.string().min(1).max(200);
const isoDate = z.iso.datetime({ offset: true });

export const moneySchema = z.object({
  amount: z.number().int().min(0),
  currency: z.string().regex(/^[A-Z]{3}$/),
});
export type Money = z.infer<typeof moneySchema>;

export const ticketStatusSchema = z.enum(["AVAILABLE", "RESERVED", "SOLD", "WITHDRAWN"]);
export const roleSchema = z.enum(["USER", "OPS", "STAFF"]);

/** A ticket's full state after a change (ticket.created, ticket.updated). */
const ticketState = z.object({
  id,
  eventId: id,
  sellerId: id,
  title: z.string(),
  section: z.string().nullable(),
  price: moneySchema,
  status: ticketStatusSchema,
  /** The order holding the ticket while RESERVED or SOLD, else null. */
  orderId: id.nullable(),
  version: z.number().int().min(1),
});

/** A pass's public state after a change (every `pass.*` event carries it). */
const passState = z.object({
  id,
  eventId: id,
  /** The ticket bought. */
  ticketId: id,
  holderId: id,
  /** Starts at 1; each re-issue to a new holder raises it, and every earlier code dies. */
  issue: z.number().int().min(1),
  status: z.enum(["VALID", "CHECKED_IN", "VOID"]),
  /** The verified resale listing the pass is offered in, else null. */
  listingTicketId: id.nullable(),
});

export const catalogue = {
  "ticketing.event.created": z.object({
    id,
    name: z.string(),
    venue: z.string(),
    city: z.string(),
    startsAt: isoDate,
    category: z.string().nullable(),
  }),
  /** An event's resale rules: the highest price a pass may be resold for, and free-text listings. */
  "ticketing.event.resale_policy_set": z.object({
    id,
    resalePriceCap: moneySchema.nullable(),
    unverifiedListingsAllowed: z.boolean(),
  }),
  "ticketing.ticket.created": ticketState,
  "ticketing.ticket.updated": ticketState,
  /** Tickets could not reserve the ticket for an order (it was withdrawn or sold meanwhile). */
  "ticketing.ticket.reservation_rejected": z.object({
    ticketId: id,
    orderId: id,
    reason: z.enum(["WITHDRAWN", "UNAVAILABLE"]),
  }),
  "ticketing.order.created": z.object({
    id,
    ticketId: id,
    buyerId: id,
    sellerId: id,
    total: moneySchema,
    createdAt: isoDate,
    expiresAt: isoDate,
  }),
  "ticketing.order.cancelled": z.object({
    id,
    ticketId: id,
    reason: z.enum(["BUYER_CANCELLED", "TICKET_UNAVAILABLE"]),
  }),
  "ticketing.order.expired": z.object({ id, ticketId: id }),
  "ticketing.order.completed": z.object({ id, ticketId: id, paymentId: id }),
  /** A payment succeeded for an order that had already ended: the money goes back. */
  "ticketing.order.refund_required": z.object({ id, ticketId: id, paymentId: id }),
  /** A pass for a completed order's ticket, to its buyer. */
  "ticketing.pass.issued": passState.extend({
    orderId: id,
    title: z.string(),
    section: z.string().nullable(),
  }),
  /** The holder offered the pass to another account; it is theirs once they accept. */
  "ticketing.pass.transfer_offered": passState.extend({ toId: id, toEmail: z.string() }),
  "ticketing.pass.transfer_cancelled": passState,
  /** The pass is re-issued to a new holder (a transfer accepted, a resale completed). */
  "ticketing.pass.reissued": passState.extend({
    previousHolderId: id,
    reason: z.enum(["TRANSFER", "RESALE"]),
    orderId: id.nullable(),
  }),
  /** The pass is offered in a verified resale listing (`listingTicketId`): no check-in, no transfer. */
  "ticketing.pass.listed": passState,
  /** Its listing was withdrawn: the pass is the holder's to use again. */
  "ticketing.pass.unlisted": passState,
  /** A verified listing whose pass had moved on (checked in, transferred) when passes heard of it. */
  "ticketing.pass.listing_rejected": z.object({ passId: id, ticketId: id }),
  /** Admitted at the door; `occurredAt` is when. */
  "ticketing.pass.checked_in": passState.extend({ checkedInBy: id }),
  "ticketing.expiration.due": z.object({ orderId: id }),
  /** A PaymentIntent was created for an order (once per order; the client secret stays in payments). */
  "ticketing.payment.started": z.object({
    id,
    orderId: id,
    buyerId: id,
    paymentIntentId: id,
    amount: moneySchema,
  }),
  /** Stripe reported a failed attempt; the intent can still be paid. */
  "ticketing.payment.failed": z.object({
    id,
    orderId: id,
    paymentIntentId: id,
    reason: z.string(),
  }),
  "ticketing.payment.succeeded": z.object({
    id,
    orderId: id,
    paymentIntentId: id,
    amount: moneySchema,
  }),
  "ticketing.payment.refunded": z.object({
    id,
    orderId: id,
    paymentIntentId: id,
    refundId: id,
    amount: moneySchema,
  }),
  /** The email is in it: the stream is internal, and only OPS see it in the ops feed. */
  "ticketing.user.registered": z.object({
    id,
    email: z.string(),
    displayName: z.string(),
    roles: z.array(roleSchema),
  }),
  "ticketing.session.started": z.object({ sessionId: id, userId: id, expiresAt: isoDate }),
  "ticketing.session.revoked": z.object({ sessionId: id, userId: id }),
  /**
   * A partner's API key. `secretHash` is the SHA-256 of the key's 256-bit random secret: it
   * cannot be turned back into the key, and the key itself is shown once, to its creator.
   */
  "ticketing.apikey.created": z.object({
    id,
    name: z.string(),
    secretHash: z.string().regex(/^[0-9a-f]{64}$/),
    requestsPerMinute: z.number().int().positive().nullable(),
    createdBy: id,
  }),
  "ticketing.apikey.revoked": z.object({ id, revokedBy: id }),
} as const;

export type Catalogue = typeof catalogue;
export type Subject = keyof Catalogue;
export type Payload<S extends Subject> = z.infer<Catalogue[S]>;
/** The `pass.*` events of a pass's log: each carries the pass's public state after it. */
export type PassSubject =
  | "ticketing.pass.issued"
  | "ticketing.pass.transfer_offered"
  | "ticketing.pass.transfer_cancelled"
  | "ticketing.pass.reissued"
  | "ticketing.pass.checked_in"
  | "ticketing.pass.listed"
  | "ticketing.pass.unlisted";
export const subjects = Object.keys(catalogue) as Subject[];

/**
 * The catalogue seen one subject at a time: indexing it with a generic `S` gives a schema whose
 * output is `Payload<S>`, which indexing `catalogue` itself does not (that yields the union of
 * every schema).
 */
const schemas: { [S in Subject]: z.ZodType<Payload<S>> } = catalogue;

export function isSubject(value: string): value is Subject {
  return Object.hasOwn(catalogue, value);
}

/** Envelope fields that do not depend on the subject. */
export interface EnvelopeHeader {
  /** Unique; doubles as the JetStream message id. */
  id: string;
  occurredAt: string;
  aggregateId: string;
  /** The aggregate's version this event brings it to (0 for events of no aggregate log). */
  version: number;
  /** Where the event came from: the request that caused it, the event it answers. */
  meta?: { requestId?: string; causationId?: string };
}

/**
 * What happened: a subject with its payload. A union over `S`, one member per subject, so that
 * checking `subject` (an `if` or an exhaustive `switch`) narrows `data` to that subject's payload.
 */
export type Change<S extends Subject = Subject> = { [K in S]: { subject: K; data: Payload<K> } }[S];

/**
 * Every event on the stream: `{ id, subject, occurredAt, aggregateId, version, data, meta? }`.
 * Like `Change`, a union over the subject: `Envelope` alone is any event, narrowed by its subject.
 */
export type Envelope<S extends Subject = Subject> = {
  [K in S]: EnvelopeHeader & { subject: K; data: Payload<K> };
}[S];

/**
 * Narrows an event to some subjects, for code that is given one of several (a follower of a
 * wildcard, a helper generic over its subject). For a single known subject, comparing
 * `event.subject` narrows just as well.
 */
export function isEventOf<S extends Subject>(
  event: { subject: Subject },
  ...subjects: S[]
): event is Envelope<S> {
  return subjects.some((subject) => subject === event.subject);
}

const envelopeShape = z.object({
  id,
  subject: z.string(),
  occurredAt: isoDate,
  aggregateId: id,
  version: z.number().int().min(0),
  data: z.unknown(),
  meta: z.object({ requestId: z.string().optional(), causationId: z.string().optional() }).optional(),
});

export class EventValidationError extends Error {
  override name = "EventValidationError";
}

/** Validates a payload against its subject's schema and returns the parsed payload. */
export function validatePayload<S extends Subject>(subject: S, data: unknown): Payload<S> {
  const result = schemas[subject].safeParse(data);
  if (!result.success) {
    throw new EventValidationError(`invalid ${subject} payload: ${z.prettifyError(result.error)}`);
  }
  return result.data;
}

/** The envelope of one subject with its payload validated; generic so subject and data stay paired. */
function withPayload<S extends Subject>(header: EnvelopeHeader, subject: S, data: unknown): Envelope<S> {
  return { ...header, subject, data: validatePayload(subject, data) };
}

/**
 * Parses an envelope received from the stream; throws EventValidationError when it is not one.
 * The result is narrowed by its subject: after `event.subject === "ticketing.session.revoked"`,
 * `event.data` is that subject's parsed payload.
 */
export function parseEnvelope(raw: unknown): Envelope {
  const result = envelopeShape.safeParse(raw);
  if (!result.success)
    throw new EventValidationError(`not an event envelope: ${z.prettifyError(result.error)}`);
  const { subject, data, ...header } = result.data;
  if (!isSubject(subject)) throw new EventValidationError(`unknown subject ${subject}`);
  return withPayload(header, subject, data);
}
