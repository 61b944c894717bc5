import type { Envelope, Money } from "@ticketing/shared-events";

export type PaymentStatus = "PENDING" | "SUCCEEDED" | "REFUNDED" | "FAILED";

/**
 * The payment of one order, as the `payments` projection keeps it. The aggregate is keyed by the
 * order id (one PaymentIntent per order); `id` is the payment's own id, the one events carry.
 */
export interface PaymentState {
  id: string;
  orderId: string;
  buyerId: string;
  paymentIntentId: string;
  status: PaymentStatus;
  /** The order's total: what the intent asks for. */
  amount: Money;
  /** What Stripe says it took, once it did. */
  received: Money | null;
  refundId: string | null;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export const PAYMENT_LOG = { logCollection: "payment_events", projectionCollection: "payments" } as const;
/** What `payment_events` holds. */
export type PaymentSubject =
  | "ticketing.payment.started"
  | "ticketing.payment.succeeded"
  | "ticketing.payment.failed"
  | "ticketing.payment.refunded";

export function evolvePayment(
  state: PaymentState | null,
  event: Envelope<PaymentSubject>,
): Omit<PaymentState, "version"> {
  if (event.subject === "ticketing.payment.started") {
    const { data } = event;
    return {
      id: data.id,
      orderId: data.orderId,
      buyerId: data.buyerId,
      paymentIntentId: data.paymentIntentId,
      status: "PENDING",
      amount: data.amount,
      received: null,
      refundId: null,
      failureReason: null,
      createdAt: event.occurredAt,
      updatedAt: event.occurredAt,
    };
  }
  if (!state) throw new Error(`${event.subject} cannot start a payment`);
  switch (event.subject) {
    case "ticketing.payment.succeeded":
      return {
        ...state,
        status: "SUCCEEDED",
        received: event.data.amount,
        failureReason: null,
        updatedAt: event.occurredAt,
      };
    case "ticketing.payment.failed":
      return { ...state, status: "FAILED", failureReason: event.data.reason, updatedAt: event.occurredAt };
    case "ticketing.payment.refunded":
      return {
        ...state,
        status: "REFUNDED",
        refundId: event.data.refundId,
        received: state.received ?? event.data.amount,
        updatedAt: event.occurredAt,
      };
  }
}
