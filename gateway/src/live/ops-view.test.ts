import { subjects, type Envelope } from "@ticketing/shared-events";
import { describe as group, expect, it } from "vitest";
import { describe, formatMoney, safeData, type OpsLookup } from "./ops-view.js";

const PERSONAL = [
  "email",
  "displayName",
  "buyerId",
  "sellerId",
  "userId",
  "sessionId",
  "holderId",
  "toId",
  "toEmail",
  "previousHolderId",
  "checkedInBy",
  "createdBy",
  "revokedBy",
  "secretHash",
];

const header = { id: "env-1", occurredAt: "2030-01-01T10:00:00.000Z", aggregateId: "a", version: 1 };
const money = { amount: 3_000, currency: "EUR" };
const ticket = {
  id: "t1",
  eventId: "e1",
  sellerId: "seller-secret",
  title: "Row A",
  section: null,
  price: money,
  status: "RESERVED" as const,
  orderId: "o1",
  version: 2,
};

const pass = {
  id: "p1",
  eventId: "e1",
  ticketId: "t1",
  holderId: "holder-secret",
  issue: 1,
  status: "VALID" as const,
  listingTicketId: null,
};

/** One event of every subject, each carrying whatever personal data its payload can. */
const samples: Envelope[] = [
  {
    ...header,
    subject: "ticketing.event.created",
    data: {
      id: "e1",
      name: "Show",
      venue: "Hall",
      city: "Lyon",
      startsAt: header.occurredAt,
      category: null,
    },
  },
  { ...header, subject: "ticketing.ticket.created", data: ticket },
  { ...header, subject: "ticketing.ticket.updated", data: ticket },
  {
    ...header,
    subject: "ticketing.ticket.reservation_rejected",
    data: { ticketId: "t1", orderId: "o1", reason: "WITHDRAWN" },
  },
  {
    ...header,
    subject: "ticketing.order.created",
    data: {
      id: "o1",
      ticketId: "t1",
      buyerId: "buyer-secret",
      sellerId: "seller-secret",
      total: money,
      createdAt: header.occurredAt,
      expiresAt: header.occurredAt,
    },
  },
  {
    ...header,
    subject: "ticketing.order.cancelled",
    data: { id: "o1", ticketId: "t1", reason: "BUYER_CANCELLED" },
  },
  { ...header, subject: "ticketing.order.expired", data: { id: "o1", ticketId: "t1" } },
  { ...header, subject: "ticketing.order.completed", data: { id: "o1", ticketId: "t1", paymentId: "p1" } },
  {
    ...header,
    subject: "ticketing.order.refund_required",
    data: { id: "o1", ticketId: "t1", paymentId: "p1" },
  },
  { ...header, subject: "ticketing.expiration.due", data: { orderId: "o1" } },
  {
    ...header,
    subject: "ticketing.payment.started",
    data: { id: "p1", orderId: "o1", buyerId: "buyer-secret", paymentIntentId: "pi_1", amount: money },
  },
  {
    ...header,
    subject: "ticketing.payment.failed",
    data: { id: "p1", orderId: "o1", paymentIntentId: "pi_1", reason: "card declined" },
  },
  {
    ...header,
    subject: "ticketing.payment.succeeded",
    data: { id: "p1", orderId: "o1", paymentIntentId: "pi_1", amount: money },
  },
  {
    ...header,
    subject: "ticketing.payment.refunded",
    data: { id: "p1", orderId: "o1", paymentIntentId: "pi_1", refundId: "re_1", amount: money },
  },
  {
    ...header,
    subject: "ticketing.user.registered",
    data: { id: "user-secret", email: "someone@example.com", displayName: "Secret Name", roles: ["USER"] },
  },
  {
    ...header,
    subject: "ticketing.session.started",
    data: { sessionId: "session-secret", userId: "user-secret", expiresAt: header.occurredAt },
  },
  {
    ...header,
    subject: "ticketing.session.revoked",
    data: { sessionId: "session-secret", userId: "user-secret" },
  },
  {
    ...header,
    subject: "ticketing.apikey.created",
    data: {
      id: "k1",
      name: "Partner",
      secretHash: "a".repeat(64),
      requestsPerMinute: null,
      createdBy: "user-secret",
    },
  },
  { ...header, subject: "ticketing.apikey.revoked", data: { id: "k1", revokedBy: "user-secret" } },
  {
    ...header,
    subject: "ticketing.pass.issued",
    data: { ...pass, orderId: "o1", title: "Row A", section: null },
  },
  {
    ...header,
    subject: "ticketing.pass.transfer_offered",
    data: { ...pass, toId: "user-secret", toEmail: "someone@example.com" },
  },
  { ...header, subject: "ticketing.pass.transfer_cancelled", data: pass },
  { ...header, subject: "ticketing.pass.listed", data: { ...pass, listingTicketId: "resale-p1-1" } },
  { ...header, subject: "ticketing.pass.unlisted", data: pass },
  { ...header, subject: "ticketing.pass.listing_rejected", data: { passId: "p1", ticketId: "resale-p1-1" } },
  {
    ...header,
    subject: "ticketing.event.resale_policy_set",
    data: { id: "e1", resalePriceCap: money, unverifiedListingsAllowed: false },
  },
  {
    ...header,
    subject: "ticketing.pass.reissued",
    data: { ...pass, issue: 2, previousHolderId: "user-secret", reason: "TRANSFER", orderId: null },
  },
  {
    ...header,
    subject: "ticketing.pass.checked_in",
    data: { ...pass, status: "CHECKED_IN", checkedInBy: "staff-secret" },
  },
];

const known: OpsLookup = {
  ticket: (id) => (id === "t1" ? { eventId: "e1" } : undefined),
  order: (id) => (id === "o1" ? { ticketId: "t1", total: money } : undefined),
};
const nothingKnown: OpsLookup = { ticket: () => undefined, order: () => undefined };

group("an event as ops see it", () => {
  it("has a sample of every subject", () => {
    expect(new Set(samples.map((event) => event.subject))).toEqual(new Set(subjects));
  });

  it("never carries an email, a name, or a user, buyer, seller or session id", () => {
    for (const event of samples) {
      const text = JSON.stringify(describe(event, known));
      expect(text, event.subject).not.toMatch(/secret|someone@example\.com|Secret Name/);
      for (const field of PERSONAL) expect(Object.keys(safeData(event)), event.subject).not.toContain(field);
    }
    // The check itself catches personal data: the raw payloads have it.
    expect(samples.some((event) => /secret|someone@example\.com/.test(JSON.stringify(event.data)))).toBe(
      true,
    );
  });

  it("says what happened, to which order, ticket and event, and for how much", () => {
    const [placed, sale] = [samples[4]!, samples[7]!];
    expect(describe(placed, known)).toMatchObject({
      kind: "order",
      orderId: "o1",
      ticketId: "t1",
      eventId: "e1",
      amount: money,
      description: `Order o1 placed for ticket t1 of event e1: EUR 30.00, held until ${header.occurredAt}`,
    });
    expect(describe(sale, known).description).toBe(
      "Sale: order o1 paid EUR 30.00; ticket t1 of event e1 sold",
    );
    // What earlier events would have said is missing: the description says less, never wrong.
    expect(describe(sale, nothingKnown)).toMatchObject({
      description: "Sale: order o1 paid; ticket t1 sold",
      amount: null,
      eventId: null,
    });
  });

  it("writes amounts in the currency's own minor units", () => {
    expect(formatMoney({ amount: 1_234, currency: "USD" })).toBe("USD 12.34");
    expect(formatMoney({ amount: 1_234, currency: "JPY" })).toBe("JPY 1234");
  });
});
