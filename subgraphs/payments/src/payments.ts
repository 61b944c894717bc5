// The payments domain: one PaymentIntent per order, its fate decided only by verified webhooks,
// and refunds when orders says the money must go back. Every change of a payment is an append
// of its next version to `payment_events` (also the outbox of payment.* events).
import { randomUUID } from "node:crypto";
import {
  inConsumerSpan,
  type AggregateLog,
  type Decision,
  type Money,
  type Payload,
} from "@ticketing/shared-events";
import { conflict, forbidden, notFound, type Identity } from "@ticketing/shared-runtime";
import type { Logger } from "pino";
import type { OrderReplica, PaymentStore } from "./data/store.js";
import type { PaymentState, PaymentSubject } from "./domain/payments.js";
import type { StripeGateway, WebhookEvent } from "./stripe.js";

export type PaymentLog = AggregateLog<PaymentState, PaymentSubject>;

/** How long startPayment waits for an order created a moment ago to reach the replica. */
const ORDER_WAIT_MS = 2_000;

export interface StartedPayment {
  payment: PaymentState;
  clientSecret: string;
}

export type WebhookOutcome = "applied" | "duplicate" | "ignored";

export interface Payments {
  /** Stripe calls go to the local mock, and no real money moves. */
  readonly sandbox: boolean;
  /** Creates the order's PaymentIntent, or returns the one it has. */
  start(viewer: Identity, orderId: string, requestId?: string): Promise<StartedPayment>;
  /** Sandbox mode only: delivers a signed `payment_intent.succeeded` for the order's intent. */
  confirmSandbox(viewer: Identity, orderId: string, requestId?: string): Promise<PaymentState>;
  /** Applies a verified Stripe event, once per event id. */
  webhook(event: WebhookEvent): Promise<WebhookOutcome>;
  /** Orders says the money of a payment must go back: a Stripe refund, then REFUNDED. */
  refundRequired(data: Payload<"ticketing.order.refund_required">, causationId: string): Promise<void>;
  /** The order's payment for its buyer or OPS; null when there is none, FORBIDDEN for anyone else. */
  payment(viewer: Identity, orderId: string): Promise<PaymentState | null>;
  /** As `payment`, but null rather than FORBIDDEN (for `Order.payment`). */
  visiblePayment(viewer: Identity | null, orderId: string): Promise<PaymentState | null>;
}

const canSee = (viewer: Identity, payment: PaymentState) =>
  payment.buyerId === viewer.userId || viewer.roles.includes("OPS");

const sameMoney = (a: Money, b: Money) => a.amount === b.amount && a.currency === b.currency;

/** One refund per payment, whichever path asks for it. */
const refundKey = (payment: PaymentState) => `refund:${payment.orderId}:${payment.id}`;
const intentKey = (orderId: string) => `payment-intent:${orderId}`;

/** Orders' ids are UUIDs: any other id is no order, now or after any wait for the replica. */
const ORDER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createPayments({
  log,
  store,
  stripe,
  webhookUrl,
  logger,
}: {
  log: PaymentLog;
  store: PaymentStore;
  stripe: StripeGateway;
  /** Where confirmSandboxPayment posts its webhook (known once the server listens). */
  webhookUrl: () => string;
  logger: Logger;
}): Payments {
  async function orderOf(orderId: string): Promise<OrderReplica | null> {
    const deadline = Date.now() + ORDER_WAIT_MS;
    for (;;) {
      const order = await store.order(orderId);
      if (order || Date.now() >= deadline) return order;
      await sleep(50);
    }
  }

  function payable(order: OrderReplica | null, viewer: Identity): OrderReplica {
    if (!order) throw notFound("No order has this id");
    if (order.buyerId !== viewer.userId) throw forbidden("Only the buyer can pay for this order");
    if (order.status !== "AWAITING_PAYMENT") {
      throw conflict(`The order is ${order.status.toLowerCase().replace("_", " ")} and cannot be paid`);
    }
    if (Date.parse(order.expiresAt) <= Date.now()) throw conflict("The order's hold has run out");
    return order;
  }

  function stillPayable(payment: PaymentState): PaymentState {
    if (payment.status === "SUCCEEDED") throw conflict("This order is paid");
    if (payment.status === "REFUNDED") throw conflict("This order's payment was refunded");
    return payment;
  }

  async function withSecret(payment: PaymentState): Promise<StartedPayment> {
    const clientSecret = await store.secret(payment.paymentIntentId);
    if (!clientSecret) throw new Error(`the client secret of ${payment.paymentIntentId} is missing`);
    return { payment, clientSecret };
  }

  async function start(viewer: Identity, orderId: string, requestId?: string): Promise<StartedPayment> {
    if (typeof orderId !== "string" || !ORDER_ID.test(orderId)) throw notFound("No order has this id");
    const order = payable(await orderOf(orderId), viewer);
    const existing = await log.load(orderId);
    if (existing) return withSecret(stillPayable(existing));

    // Stripe answers a repeated idempotency key with the same intent, so a retry or a racing
    // second call never makes the buyer pay twice; the first append decides which intent is kept.
    const intent = await stripe.createIntent(orderId, order.total, intentKey(orderId));
    await store.saveSecret(orderId, intent.id, intent.clientSecret);
    const result = await log.execute(
      orderId,
      (current) =>
        current
          ? null
          : {
              subject: "ticketing.payment.started",
              data: {
                id: randomUUID(),
                orderId,
                buyerId: order.buyerId,
                paymentIntentId: intent.id,
                amount: order.total,
              },
            },
      { requestId },
    );
    if (!result.state) throw new Error(`payment of order ${orderId} is missing after its creation`);
    return withSecret(stillPayable(result.state));
  }

  async function refund(payment: PaymentState, amount: Money, causationId: string) {
    const { id: refundId } = await stripe.refund(payment.paymentIntentId, refundKey(payment));
    await log.execute(
      payment.orderId,
      (current): Decision<PaymentSubject> =>
        !current || current.status === "REFUNDED"
          ? null
          : {
              subject: "ticketing.payment.refunded",
              data: {
                id: current.id,
                orderId: current.orderId,
                paymentIntentId: current.paymentIntentId,
                refundId,
                amount,
              },
            },
      { causationId },
    );
    logger.info({ orderId: payment.orderId, paymentId: payment.id, refundId }, "payment refunded");
  }

  async function succeeded(
    event: Extract<WebhookEvent, { type: "payment_intent.succeeded" }>,
    orderId: string,
  ) {
    const payment = await log.load(orderId);
    if (!payment) {
      logger.warn(
        { orderId, stripeEvent: event.id },
        "payment_intent.succeeded for an order without a payment",
      );
      return "ignored" as const;
    }
    if (payment.paymentIntentId !== event.paymentIntentId) {
      // Money taken on an intent this order does not use: it goes back.
      logger.warn(
        { orderId, paymentIntentId: event.paymentIntentId },
        "refunding a payment on an unknown intent",
      );
      await stripe.refund(event.paymentIntentId, `refund:${orderId}:${event.paymentIntentId}`);
      return "applied" as const;
    }
    if (payment.status === "SUCCEEDED" || payment.status === "REFUNDED") return "duplicate" as const;
    if (!sameMoney(event.amount, payment.amount)) {
      // Never completes the order: the money taken goes back at once.
      logger.warn(
        { orderId, expected: payment.amount, received: event.amount },
        "payment for the wrong amount; refunding it",
      );
      await refund(payment, event.amount, event.id);
      return "applied" as const;
    }
    const result = await log.execute(
      orderId,
      (current): Decision<PaymentSubject> =>
        current && (current.status === "PENDING" || current.status === "FAILED")
          ? {
              subject: "ticketing.payment.succeeded",
              data: {
                id: current.id,
                orderId,
                paymentIntentId: current.paymentIntentId,
                amount: event.amount,
              },
            }
          : null,
      { causationId: event.id },
    );
    return result.outcome === "appended" ? ("applied" as const) : ("duplicate" as const);
  }

  async function failed(
    event: Extract<WebhookEvent, { type: "payment_intent.payment_failed" }>,
    orderId: string,
  ) {
    const result = await log.execute(
      orderId,
      (current): Decision<PaymentSubject> =>
        current?.status === "PENDING" && current.paymentIntentId === event.paymentIntentId
          ? {
              subject: "ticketing.payment.failed",
              data: {
                id: current.id,
                orderId,
                paymentIntentId: current.paymentIntentId,
                reason: event.reason.slice(0, 500),
              },
            }
          : null,
      { causationId: event.id },
    );
    return result.outcome === "appended" ? ("applied" as const) : ("ignored" as const);
  }

  const payments: Payments = {
    sandbox: stripe.sandbox,
    start,

    async confirmSandbox(viewer, orderId, requestId) {
      if (!stripe.sandbox) throw forbidden("confirmSandboxPayment works only in sandbox mode");
      const { payment } = await start(viewer, orderId, requestId);
      const payload = JSON.stringify({
        id: `evt_sandbox_${payment.id.replaceAll("-", "")}`,
        object: "event",
        type: "payment_intent.succeeded",
        api_version: null,
        created: Math.floor(Date.now() / 1_000),
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        data: {
          object: {
            id: payment.paymentIntentId,
            object: "payment_intent",
            amount: payment.amount.amount,
            amount_received: payment.amount.amount,
            currency: payment.amount.currency.toLowerCase(),
            metadata: { orderId },
            status: "succeeded",
            livemode: false,
          },
        },
      });
      const response = await fetch(webhookUrl(), {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": stripe.sign(payload) },
        body: payload,
        signal: AbortSignal.timeout(15_000),
      });
      if (!response.ok) throw new Error(`the sandbox webhook was refused with HTTP ${response.status}`);
      const paid = await log.load(orderId);
      if (!paid) throw new Error(`payment of order ${orderId} is missing`);
      return paid;
    },

    async webhook(event) {
      if (event.type === "other") return "ignored";
      if (await store.webhookEvents.has(event.id)) return "duplicate";
      let outcome: WebhookOutcome = "ignored";
      const { orderId } = event;
      if (!orderId) {
        logger.warn({ stripeEvent: event.id }, `${event.type} without metadata.orderId ignored`);
      } else {
        // Stripe's word on a payment continues the trace of the order's creation.
        const trace = (await store.order(orderId))?.trace;
        outcome = await inConsumerSpan(event.type, trace, { "messaging.system": "stripe" }, () =>
          event.type === "payment_intent.succeeded" ? succeeded(event, orderId) : failed(event, orderId),
        );
      }
      await store.webhookEvents.record(event.id);
      return outcome;
    },

    async refundRequired(data, causationId) {
      const payment = await log.load(data.id);
      if (!payment || payment.id !== data.paymentId) {
        logger.error(
          { orderId: data.id, paymentId: data.paymentId },
          "refund required for an unknown payment",
        );
        return;
      }
      if (payment.status === "REFUNDED") return;
      await refund(payment, payment.received ?? payment.amount, causationId);
    },

    async payment(viewer, orderId) {
      const payment = await log.read(orderId);
      if (!payment) return null;
      if (!canSee(viewer, payment)) throw forbidden("Only the buyer can see this payment");
      return payment;
    },

    async visiblePayment(viewer, orderId) {
      if (!viewer) return null;
      const payment = await log.read(orderId);
      return payment && canSee(viewer, payment) ? payment : null;
    },
  };
  return payments;
}
