// startPayment and the webhook: who may pay, one intent per order, signatures, replays, amounts.
import { randomUUID } from "node:crypto";
import type { TestStream } from "@ticketing/shared-events/testing";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  codeOf,
  CONFIRM_SANDBOX,
  createOrder,
  dataOf,
  eventually,
  FakeAuth,
  intentEvent,
  openStream,
  ORDER_PAYMENT,
  orderEvent,
  PAYMENT,
  sign,
  START_PAYMENT,
  startPayments,
  StripeRecorder,
  type PaymentNode,
  type RunningPayments,
  type StartNode,
} from "./support.js";

const signer = new Stripe("sk_test_123");

let auth: FakeAuth;
let stream: TestStream;
let stripe: StripeRecorder;
let payments: RunningPayments;

beforeAll(async () => {
  auth = await FakeAuth.start();
  stream = await openStream();
  stripe = await StripeRecorder.start();
  payments = await startPayments(auth, stripe.url);
});

afterAll(async () => {
  await payments?.close();
  await stripe?.close();
  await stream?.close();
  await auth?.close();
});

async function start(orderId: string, token: string) {
  return dataOf(
    await payments.graphql<{ startPayment: StartNode }>(START_PAYMENT, { variables: { orderId }, token }),
  ).startPayment;
}

const paymentOf = async (orderId: string, token: string) =>
  dataOf(await payments.graphql<{ payment: PaymentNode | null }>(PAYMENT, { variables: { orderId }, token }))
    .payment;

/** An order awaiting payment with its intent started; returns what a test needs. */
async function started(total = { amount: 4_200, currency: "EUR" }) {
  const { order } = await createOrder(stream, { total });
  const buyer = auth.token(order.buyerId);
  const intent = await start(order.id, buyer);
  return { order, buyer, intent };
}

const succeededFor = (
  intent: StartNode,
  orderId: string,
  amount = intent.amount.amount,
  currency = intent.amount.currency.toLowerCase(),
) => intentEvent("payment_intent.succeeded", { id: intent.paymentIntentId, amount, currency, orderId });

describe("startPayment", () => {
  it("creates one PaymentIntent for exactly the total, with metadata.orderId and an idempotency key", async () => {
    const { order } = await createOrder(stream, { total: { amount: 12_345, currency: "GBP" } });
    const buyer = auth.token(order.buyerId);
    const first = await start(order.id, buyer);
    expect(first).toMatchObject({
      amount: { amount: 12_345, currency: "GBP" },
      payment: { status: "PENDING" },
    });
    expect(first.paymentIntentId).toMatch(/^pi_/);
    expect(first.clientSecret).toMatch(/_secret_/);

    const sent = stripe.to("/v1/payment_intents").filter((r) => r.form.get("metadata[orderId]") === order.id);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.method).toBe("POST");
    expect(sent[0]!.form.get("amount")).toBe("12345");
    expect(sent[0]!.form.get("currency")).toBe("gbp");
    expect(sent[0]!.idempotencyKey).toBe(`payment-intent:${order.id}`);

    // Called again: the same intent, and nothing new asked of Stripe.
    const again = await start(order.id, buyer);
    expect(again).toEqual(first);
    expect(
      stripe.to("/v1/payment_intents").filter((r) => r.form.get("metadata[orderId]") === order.id),
    ).toHaveLength(1);
    expect(await paymentOf(order.id, buyer)).toMatchObject({
      id: first.payment.id,
      status: "PENDING",
      amount: { amount: 12_345, currency: "GBP" },
      paymentIntentId: first.paymentIntentId,
      order: { id: order.id },
    });
  });

  it("gives one intent to calls that race", async () => {
    const { order } = await createOrder(stream);
    const buyer = auth.token(order.buyerId);
    const results = await Promise.all(Array.from({ length: 5 }, () => start(order.id, buyer)));
    expect(new Set(results.map((r) => r.paymentIntentId)).size).toBe(1);
    expect(new Set(results.map((r) => r.clientSecret)).size).toBe(1);
    // Every attempt that reached Stripe used the order's one idempotency key.
    const keys = stripe.to("/v1/payment_intents").filter((r) => r.form.get("metadata[orderId]") === order.id);
    expect(new Set(keys.map((r) => r.idempotencyKey))).toEqual(new Set([`payment-intent:${order.id}`]));
  });

  it("is for the buyer only, signed in, of an order that exists", async () => {
    const { order } = await createOrder(stream);
    expect(codeOf(await payments.graphql(START_PAYMENT, { variables: { orderId: order.id } }))).toBe(
      "UNAUTHENTICATED",
    );
    expect(
      codeOf(
        await payments.graphql(START_PAYMENT, { variables: { orderId: order.id }, token: auth.token() }),
      ),
    ).toBe("FORBIDDEN");
    expect(
      codeOf(
        await payments.graphql(START_PAYMENT, { variables: { orderId: randomUUID() }, token: auth.token() }),
      ),
    ).toBe("NOT_FOUND");
    // An id no order can have is refused at once, without waiting for the replica.
    const startedAt = Date.now();
    for (const orderId of ["nope", "", " ".repeat(10), "x".repeat(10_000)]) {
      expect(
        codeOf(await payments.graphql(START_PAYMENT, { variables: { orderId }, token: auth.token() })),
      ).toBe("NOT_FOUND");
    }
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    // The buyer's payment stays hidden from others.
    const buyer = auth.token(order.buyerId);
    await start(order.id, buyer);
    expect(
      codeOf(await payments.graphql(PAYMENT, { variables: { orderId: order.id }, token: auth.token() })),
    ).toBe("FORBIDDEN");
    const entities = (token: string) =>
      payments.graphql<{ _entities: { id: string; payment: { status: string } | null }[] }>(ORDER_PAYMENT, {
        variables: { representations: [{ __typename: "Order", id: order.id }] },
        token,
      });
    expect(dataOf(await entities(buyer))._entities[0]?.payment?.status).toBe("PENDING");
    expect(dataOf(await entities(auth.token()))._entities[0]?.payment).toBeNull();
    expect(dataOf(await entities(auth.token(randomUUID(), ["OPS"])))._entities[0]?.payment?.status).toBe(
      "PENDING",
    );
  });

  it("refuses an order past expiresAt, or no longer awaiting payment", async () => {
    const past = Date.now() - 1_000;
    const { order: expired } = await createOrder(stream, {
      createdAt: new Date(past - 900_000).toISOString(),
      expiresAt: new Date(past).toISOString(),
    });
    const result = await payments.graphql(START_PAYMENT, {
      variables: { orderId: expired.id },
      token: auth.token(expired.buyerId),
    });
    expect(codeOf(result)).toBe("CONFLICT");

    const { order: cancelled } = await createOrder(stream);
    await orderEvent(
      stream,
      "ticketing.order.cancelled",
      { id: cancelled.id, ticketId: cancelled.ticketId, reason: "BUYER_CANCELLED" },
      2,
    );
    const buyer = auth.token(cancelled.buyerId);
    const refused = await eventually(
      () => payments.graphql(START_PAYMENT, { variables: { orderId: cancelled.id }, token: buyer }),
      (answer) => codeOf(answer) === "CONFLICT",
    );
    expect(codeOf(refused)).toBe("CONFLICT");
    expect(stripe.to("/v1/payment_intents").some((r) => r.form.get("metadata[orderId]") === expired.id)).toBe(
      false,
    );
  });
});

describe("the webhook", () => {
  it("refuses a bad or missing signature with 400 and changes nothing", async () => {
    const { order, buyer, intent } = await started();
    const seq = await stream.lastSeq();
    const payload = succeededFor(intent, order.id);
    for (const signature of [
      undefined,
      "t=1,v1=abc",
      sign(payload, "whsec_someone_else"),
      sign(`${payload} `),
    ]) {
      const response = await payments.webhook(payload, signature);
      expect(response.status).toBe(400);
    }
    // A signed body that was changed afterwards.
    const tampered = await payments.webhook(payload.replace('"amount":4200', '"amount":1'), sign(payload));
    expect(tampered.status).toBe(400);
    // Signed without a byte-order mark, sent with one: not the bytes that were signed.
    const withBom = await payments.webhook(`\uFEFF${payload}`, sign(payload));
    expect(withBom.status).toBe(400);
    expect((await paymentOf(order.id, buyer))?.status).toBe("PENDING");
    expect(await stream.since(seq, "ticketing.payment.succeeded")).toEqual([]);
  });

  it("marks a payment whose amount and currency match SUCCEEDED, once per event id", async () => {
    const { order, buyer, intent } = await started();
    const seq = await stream.lastSeq();
    const payload = succeededFor(intent, order.id);
    const signature = sign(payload);
    const answers = await Promise.all([
      payments.webhook(payload, signature),
      payments.webhook(payload, signature),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect((await payments.webhook(payload, signature)).status).toBe(200);
    // The same payment confirmed again under another event id changes nothing either.
    const other = succeededFor(intent, order.id);
    expect((await payments.webhook(other, sign(other))).status).toBe(200);

    const payment = await paymentOf(order.id, buyer);
    expect(payment?.status).toBe("SUCCEEDED");
    const events = await eventually(
      () => stream.since(seq, "ticketing.payment.succeeded"),
      (found) => found.length > 0,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await stream.since(seq, "ticketing.payment.succeeded")).toHaveLength(1);
    expect(events[0]?.data).toEqual({
      id: intent.payment.id,
      orderId: order.id,
      paymentIntentId: intent.paymentIntentId,
      amount: { amount: 4_200, currency: "EUR" },
    });
    // Paid: no second intent.
    expect(
      codeOf(await payments.graphql(START_PAYMENT, { variables: { orderId: order.id }, token: buyer })),
    ).toBe("CONFLICT");
  });

  it("never completes a payment of the wrong amount or currency: the money goes back", async () => {
    for (const [amount, currency] of [
      [4_199, "eur"],
      [4_200, "usd"],
    ] as const) {
      const { order, buyer, intent } = await started();
      const seq = await stream.lastSeq();
      const payload = succeededFor(intent, order.id, amount, currency);
      expect((await payments.webhook(payload, sign(payload))).status).toBe(200);
      expect((await paymentOf(order.id, buyer))?.status).toBe("REFUNDED");
      const refunds = stripe
        .to("/v1/refunds")
        .filter((r) => r.form.get("payment_intent") === intent.paymentIntentId);
      expect(refunds).toHaveLength(1);
      expect(refunds[0]!.idempotencyKey).toBe(`refund:${order.id}:${intent.payment.id}`);
      const refunded = await eventually(
        () => stream.since(seq, "ticketing.payment.refunded"),
        (found) => found.length > 0,
      );
      expect(refunded[0]?.data).toMatchObject({
        orderId: order.id,
        amount: { amount, currency: currency.toUpperCase() },
      });
      expect(await stream.since(seq, "ticketing.payment.succeeded")).toEqual([]);
    }
  });

  it("marks a failed attempt FAILED, and a later success still counts", async () => {
    const { order, buyer, intent } = await started();
    const failed = intentEvent("payment_intent.payment_failed", {
      id: intent.paymentIntentId,
      amount: 4_200,
      currency: "eur",
      orderId: order.id,
    });
    expect((await payments.webhook(failed, sign(failed))).status).toBe(200);
    expect((await paymentOf(order.id, buyer))?.status).toBe("FAILED");
    // The buyer tries again with the same intent.
    expect((await start(order.id, buyer)).paymentIntentId).toBe(intent.paymentIntentId);
    const payload = succeededFor(intent, order.id);
    expect((await payments.webhook(payload, sign(payload))).status).toBe(200);
    expect((await paymentOf(order.id, buyer))?.status).toBe("SUCCEEDED");
  });

  it("acknowledges events it has no use for, and refuses a body that is not an event", async () => {
    const payload = JSON.stringify({
      id: "evt_other",
      object: "event",
      type: "customer.created",
      data: { object: {} },
    });
    expect((await payments.webhook(payload, sign(payload))).status).toBe(200);
    expect((await payments.webhook("not json", sign("not json"))).status).toBe(400);
  });
});

describe("refunds orders asks for", () => {
  it("refunds through Stripe with an idempotency key, once, then REFUNDED and payment.refunded", async () => {
    const { order, buyer, intent } = await started();
    const payload = succeededFor(intent, order.id);
    expect((await payments.webhook(payload, sign(payload))).status).toBe(200);
    const seq = await stream.lastSeq();
    // Orders found the order already expired: version 2 expired, version 3 refund_required.
    await orderEvent(stream, "ticketing.order.expired", { id: order.id, ticketId: order.ticketId }, 2);
    const required = await orderEvent(
      stream,
      "ticketing.order.refund_required",
      { id: order.id, ticketId: order.ticketId, paymentId: intent.payment.id },
      3,
    );
    await stream.redeliver(required);

    const refunded = await eventually(
      () => paymentOf(order.id, buyer),
      (payment) => payment?.status === "REFUNDED",
    );
    expect(refunded?.status).toBe("REFUNDED");
    await new Promise((resolve) => setTimeout(resolve, 500));
    const refunds = stripe
      .to("/v1/refunds")
      .filter((r) => r.form.get("payment_intent") === intent.paymentIntentId);
    expect(refunds.length).toBeGreaterThanOrEqual(1);
    expect(new Set(refunds.map((r) => r.idempotencyKey))).toEqual(
      new Set([`refund:${order.id}:${intent.payment.id}`]),
    );
    const events = await stream.since(seq, "ticketing.payment.refunded");
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({
      id: intent.payment.id,
      orderId: order.id,
      paymentIntentId: intent.paymentIntentId,
      amount: { amount: 4_200, currency: "EUR" },
    });
    expect(events[0]?.data.refundId).toMatch(/^re_/);
  });
});

describe("sandbox mode", () => {
  it("confirmSandboxPayment posts a signed payment_intent.succeeded through the webhook, for the buyer only", async () => {
    const { order } = await createOrder(stream);
    const buyer = auth.token(order.buyerId);
    expect(
      codeOf(
        await payments.graphql(CONFIRM_SANDBOX, { variables: { orderId: order.id }, token: auth.token() }),
      ),
    ).toBe("FORBIDDEN");
    const seq = await stream.lastSeq();
    // Without startPayment first: it starts the payment itself.
    const confirmed = dataOf(
      await payments.graphql<{ confirmSandboxPayment: { id: string; status: string } }>(CONFIRM_SANDBOX, {
        variables: { orderId: order.id },
        token: buyer,
      }),
    ).confirmSandboxPayment;
    expect(confirmed.status).toBe("SUCCEEDED");
    const events = await eventually(
      () => stream.since(seq, "ticketing.payment.succeeded"),
      (found) => found.length > 0,
    );
    expect(events[0]?.data).toMatchObject({
      id: confirmed.id,
      orderId: order.id,
      amount: { amount: 4_200, currency: "EUR" },
    });
    // What a receipt shows: what was taken, when, and how.
    const receipt = dataOf(
      await payments.graphql<{
        payment: { paidAt: string | null; updatedAt: string; method: string; received: unknown };
      }>(
        `query ($orderId: ID!) { payment(orderId: $orderId) { paidAt updatedAt method received { amount currency } } }`,
        {
          variables: { orderId: order.id },
          token: buyer,
        },
      ),
    ).payment;
    expect(receipt.received).toEqual({ amount: 4_200, currency: "EUR" });
    expect(receipt.paidAt).toBe(receipt.updatedAt);
    expect(Date.now() - Date.parse(receipt.paidAt ?? "")).toBeLessThan(60_000);
    expect(receipt.method).toBe("Stripe (sandbox: no real money moved)");
  });

  it("is refused outside sandbox mode", async () => {
    const live = await startPayments(auth, stripe.url, {
      STRIPE_SECRET_KEY: "sk_test_not_a_real_key",
      STRIPE_WEBHOOK_SECRET: "whsec_live_test_secret",
    });
    try {
      const { order } = await createOrder(stream);
      const answer = await live.graphql(CONFIRM_SANDBOX, {
        variables: { orderId: order.id },
        token: auth.token(order.buyerId),
      });
      expect(codeOf(answer)).toBe("FORBIDDEN");
      // And its webhooks verify against its own secret, not the sandbox one.
      const payload = intentEvent("payment_intent.succeeded", {
        id: "pi_x",
        amount: 1,
        currency: "eur",
        orderId: order.id,
      });
      expect((await live.webhook(payload, sign(payload))).status).toBe(400);
      expect((await live.webhook(payload, sign(payload, "whsec_live_test_secret"))).status).toBe(200);
    } finally {
      await live.close();
    }
  });

  it("while Stripe rolls the webhook secret, a delivery verifies with the old secret and with the new", async () => {
    // Until a rolled secret expires, Stripe signs each event with both secrets (two v1 signatures).
    const live = (secret: string) =>
      startPayments(auth, stripe.url, {
        STRIPE_SECRET_KEY: "sk_test_not_a_real_key",
        STRIPE_WEBHOOK_SECRET: secret,
      });
    const [before, after] = await Promise.all([live("whsec_before_the_roll"), live("whsec_after_the_roll")]);
    try {
      const payload = JSON.stringify({
        id: `evt_${randomUUID().replaceAll("-", "")}`,
        object: "event",
        type: "charge.updated",
        data: { object: { id: "ch_x", object: "charge" } },
      });
      const timestamp = Math.floor(Date.now() / 1000);
      const signed = (secret: string) =>
        signer.webhooks.generateTestHeaderString({ payload, secret, timestamp }).split(",")[1]!;
      const both = `t=${timestamp},${signed("whsec_before_the_roll")},${signed("whsec_after_the_roll")}`;
      expect((await before.webhook(payload, both)).status).toBe(200);
      expect((await after.webhook(payload, both)).status).toBe(200);
      // Without the overlap, each refuses the other's signature.
      expect((await after.webhook(payload, `t=${timestamp},${signed("whsec_before_the_roll")}`)).status).toBe(
        400,
      );
      expect((await before.webhook(payload, `t=${timestamp},${signed("whsec_after_the_roll")}`)).status).toBe(
        400,
      );
    } finally {
      await Promise.all([before.close(), after.close()]);
    }
  });
});
