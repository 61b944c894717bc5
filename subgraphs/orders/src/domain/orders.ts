import type { Envelope, Money } from "@ticketing/shared-events";

export type OrderStatus = "AWAITING_PAYMENT" | "COMPLETE" | "CANCELLED" | "EXPIRED";

/** An order as the `orders` projection keeps it; `version` is its position in `order_events`. */
export interface OrderState {
  id: string;
  ticketId: string;
  buyerId: string;
  sellerId: string;
  total: Money;
  status: OrderStatus;
  createdAt: string;
  expiresAt: string;
  /** When it left AWAITING_PAYMENT. */
  endedAt: string | null;
  /** The payment that completed it. */
  paymentId: string | null;
  /** Payments that arrived after it had ended (or a second one): each is refunded. */
  refundedPayments: string[];
  version: number;
}

export const ORDER_LOG = { logCollection: "order_events", projectionCollection: "orders" } as const;
/** What `order_events` holds: an order's creation, the one way it ended, and late payments. */
export type OrderSubject =
  | "ticketing.order.created"
  | "ticketing.order.cancelled"
  | "ticketing.order.expired"
  | "ticketing.order.completed"
  | "ticketing.order.refund_required";

export function evolveOrder(
  state: OrderState | null,
  event: Envelope<OrderSubject>,
): Omit<OrderState, "version"> {
  if (event.subject === "ticketing.order.created") {
    const { data } = event;
    return {
      id: data.id,
      ticketId: data.ticketId,
      buyerId: data.buyerId,
      sellerId: data.sellerId,
      total: data.total,
      status: "AWAITING_PAYMENT",
      createdAt: data.createdAt,
      expiresAt: data.expiresAt,
      endedAt: null,
      paymentId: null,
      refundedPayments: [],
    };
  }
  if (!state) throw new Error(`${event.subject} cannot start an order`);
  switch (event.subject) {
    case "ticketing.order.cancelled":
      return { ...state, status: "CANCELLED", endedAt: event.occurredAt };
    case "ticketing.order.expired":
      return { ...state, status: "EXPIRED", endedAt: event.occurredAt };
    case "ticketing.order.completed":
      return { ...state, status: "COMPLETE", endedAt: event.occurredAt, paymentId: event.data.paymentId };
    case "ticketing.order.refund_required":
      return { ...state, refundedPayments: [...state.refundedPayments, event.data.paymentId] };
  }
}

export const isOpen = (order: OrderState) => order.status === "AWAITING_PAYMENT";
