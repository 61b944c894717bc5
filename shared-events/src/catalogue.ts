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
export const roleSchema = z.enum(["USER", "OPS"]);

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

export const catalogue = {
  "ticketing.event.created": z.object({
    id,
    name: z.string(),
    venue: z.string(),
    city: z.string(),
    startsAt: isoDate,
    category: z.string().nullable(),
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
export const subjects = Object.keys(catalogue) as Subject[];

export function isSubject(value: string): value is Subject {
  return Object.hasOwn(catalogue, value);
}

/** Every event on the stream. `id` doubles as the JetStream message id. */
export interface Envelope<S extends Subject = Subject> {
  id: string;
  subject: S;
  occurredAt: string;
  aggregateId: string;
  /** The aggregate's version this event brings it to (0 for events of no aggregate log). */
  version: number;
  data: Payload<S>;
  /** Where the event came from: the request that caused it, the event it answers. */
  meta?: { requestId?: string; causationId?: string };
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
  const result = catalogue[subject].safeParse(data);
  if (!result.success) {
    throw new EventValidationError(`invalid ${subject} payload: ${z.prettifyError(result.error)}`);
  }
  return result.data as Payload<S>;
}

/** Parses an envelope received from the stream; throws EventValidationError when it is not one. */
export function parseEnvelope(raw: unknown): Envelope {
  const result = envelopeShape.safeParse(raw);
  if (!result.success)
    throw new EventValidationError(`not an event envelope: ${z.prettifyError(result.error)}`);
  const envelope = result.data;
  if (!isSubject(envelope.subject)) throw new EventValidationError(`unknown subject ${envelope.subject}`);
  return { ...envelope, subject: envelope.subject, data: validatePayload(envelope.subject, envelope.data) };
}
