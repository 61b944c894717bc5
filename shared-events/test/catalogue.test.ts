import { describe, expect, expectTypeOf, it } from "vitest";
import {
  EventValidationError,
  isEventOf,
  parseEnvelope,
  subjects,
  validatePayload,
  envelopeOf,
  type Payload,
} from "../src/index.js";

describe("the event catalogue", () => {
  it("names every subject ticketing.<aggregate>.<what>", () => {
    for (const subject of subjects) expect(subject).toMatch(/^ticketing\.[a-z]+\.[a-z_]+$/);
    expect(subjects).toEqual(
      expect.arrayContaining([
        "ticketing.event.created",
        "ticketing.ticket.created",
        "ticketing.ticket.updated",
        "ticketing.order.created",
        "ticketing.order.cancelled",
        "ticketing.order.expired",
        "ticketing.order.completed",
        "ticketing.order.refund_required",
        "ticketing.expiration.due",
        "ticketing.payment.succeeded",
        "ticketing.payment.refunded",
        "ticketing.user.registered",
        "ticketing.session.revoked",
      ]),
    );
  });

  it("refuses a payload that does not match its subject", () => {
    expect(() => validatePayload("ticketing.expiration.due", { orderId: "" })).toThrow(EventValidationError);
    expect(() =>
      validatePayload("ticketing.payment.succeeded", {
        id: "p",
        orderId: "o",
        paymentIntentId: "pi",
        amount: { amount: 10.5, currency: "usd" },
      }),
    ).toThrow(/amount/);
  });

  it("builds envelopes that parse back to the same event", () => {
    const envelope = envelopeOf("ticketing.expiration.due", { orderId: "o-1" }, { aggregateId: "o-1" });
    expect(envelope.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(parseEnvelope(JSON.parse(JSON.stringify(envelope)))).toEqual(envelope);
  });

  it("rejects envelopes of unknown subjects or with a wrong payload", () => {
    const good = envelopeOf("ticketing.expiration.due", { orderId: "o-1" }, { aggregateId: "o-1" });
    expect(() => parseEnvelope({ ...good, subject: "ticketing.nope.happened" })).toThrow(/unknown subject/);
    expect(() => parseEnvelope({ ...good, data: { orderId: 7 } })).toThrow(EventValidationError);
    expect(() => parseEnvelope("not an object")).toThrow(EventValidationError);
  });

  it("narrows a parsed event's payload by its subject", () => {
    const sent = envelopeOf(
      "ticketing.session.revoked",
      { sessionId: "s-1", userId: "u-1" },
      { aggregateId: "s-1" },
    );
    const event = parseEnvelope(JSON.parse(JSON.stringify(sent)));
    // @ts-expect-error: until the subject is known, data is any subject's payload
    expect(event.data.sessionId).toBe("s-1");
    if (event.subject !== "ticketing.session.revoked") throw new Error(`unexpected ${event.subject}`);
    expectTypeOf(event.data).toEqualTypeOf<Payload<"ticketing.session.revoked">>();
    expect(event.data.sessionId).toBe("s-1");

    const any = parseEnvelope(JSON.parse(JSON.stringify(sent)));
    expect(isEventOf(any, "ticketing.ticket.created", "ticketing.ticket.updated")).toBe(false);
    if (!isEventOf(any, "ticketing.session.started", "ticketing.session.revoked"))
      throw new Error("not a session");
    expectTypeOf(any.data.userId).toEqualTypeOf<string>();
  });

  it("type-checks a publish only with the subject's payload", () => {
    // @ts-expect-error: expiration.due carries an orderId, not an id
    expect(() => envelopeOf("ticketing.expiration.due", { id: "x" }, { aggregateId: "x" })).toThrow();
  });
});
