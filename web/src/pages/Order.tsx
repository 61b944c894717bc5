import { lazy, Suspense, useEffect, useState } from "react";
import { useMutation, useQuery } from "@apollo/client/react";
import { Link, useParams } from "react-router";
import {
  CancelOrderDocument,
  ConfirmSandboxPaymentDocument,
  OrderDocument,
  OrderWithoutPaymentDocument,
  StartPaymentDocument,
  type OrderStatus,
} from "../gql/graphql.js";
import { graphHas } from "../gql/graph-has.js";
import { ConfirmButton } from "../components/Confirm.js";
import { ErrorMessage, Loading } from "../components/Feedback.js";
import { HoldAnnouncer, secondsLeft } from "../components/HoldAnnouncer.js";
import { MoneyText } from "../components/MoneyText.js";
import { Receipt } from "../components/Receipt.js";
import { RequireViewer } from "../components/RequireViewer.js";
import { describeError } from "../lib/errors.js";

const StripeCheckout = lazy(() => import("../components/StripeCheckout.js"));
const OrderPasses = lazy(() => import("../components/OrderPasses.js"));

export const ORDER_STATUS: Record<OrderStatus, string> = {
  AWAITING_PAYMENT: "Awaiting payment",
  COMPLETE: "Paid",
  CANCELLED: "Cancelled",
  EXPIRED: "Expired",
};

/** Stripe's publishable key from the build's environment; absent: the graph runs Stripe in sandbox mode. */
const publishableKey: string | undefined = import.meta.env.VITE_STRIPE_PUBLISHABLE_KEY as string | undefined;

/** While a payment is on its way, how often the order is asked for again. */
export const FOLLOW_MS = 1_000;
const HOLD_MS = 5_000;

export function remaining(expiresAt: string, now: number): string {
  const seconds = secondsLeft(expiresAt, now);
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, "0")}`;
}

function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

export function OrderPage() {
  return <RequireViewer what="to see this order">{() => <OrderView />}</RequireViewer>;
}

type PayState = "idle" | "starting" | "following";

function OrderView() {
  const { id = "" } = useParams();
  const [pay, setPay] = useState<PayState>("idle");
  const [clientSecret, setClientSecret] = useState<string>();
  const [actionError, setActionError] = useState<{ error: unknown; action: "pay" | "cancelOrder" }>();
  // Until the graph carries payments, the order is read without its payment.
  const withPayment = useQuery(OrderDocument, { variables: { id }, skip: !graphHas.payments });
  const withoutPayment = useQuery(OrderWithoutPaymentDocument, {
    variables: { id },
    skip: graphHas.payments,
  });
  const query = graphHas.payments ? withPayment : withoutPayment;
  const order = graphHas.payments ? withPayment.data?.order : withoutPayment.data?.order;
  const payment = withPayment.data?.order?.payment ?? null;
  const awaiting = order?.status === "AWAITING_PAYMENT";
  const now = useNow(awaiting);
  const [cancelOrder, { loading: cancelling }] = useMutation(CancelOrderDocument);
  const [startPayment] = useMutation(StartPaymentDocument);
  const [confirmSandbox] = useMutation(ConfirmSandboxPaymentDocument);

  const { startPolling, stopPolling, refetch } = query;
  const interval = awaiting ? (pay === "following" ? FOLLOW_MS : HOLD_MS) : 0;
  useEffect(() => {
    if (interval > 0) startPolling(interval);
    else stopPolling();
    return () => stopPolling();
  }, [interval, startPolling, stopPolling]);

  const expired = awaiting && Date.parse(order.expiresAt) <= now;
  useEffect(() => {
    if (expired) void refetch();
  }, [expired, refetch]);

  if (query.loading && !query.data) return <Loading>Loading your order…</Loading>;
  if (query.error && !order) return <ErrorMessage error={query.error} />;
  if (!order) {
    return (
      <section className="page">
        <h1>Order not found</h1>
        <Link to="/orders">Your orders</Link>
      </section>
    );
  }

  const onCancel = async () => {
    setActionError(undefined);
    try {
      await cancelOrder({ variables: { id: order.id } });
    } catch (error) {
      setActionError({ error, action: "cancelOrder" });
    }
  };

  const onPay = async () => {
    setActionError(undefined);
    setPay("starting");
    try {
      const started = await startPayment({ variables: { orderId: order.id } });
      if (publishableKey && started.data) {
        setClientSecret(started.data.startPayment.clientSecret);
        setPay("idle");
        return;
      }
      await confirmSandbox({ variables: { orderId: order.id } });
      setPay("following");
    } catch (error) {
      setPay("idle");
      setActionError({ error, action: "pay" });
    }
  };

  return (
    <section className="page narrow">
      <h1>Your order</h1>
      <p className={`order-status order-${order.status.toLowerCase()}`} role="status" aria-live="polite">
        {ORDER_STATUS[order.status]}
      </p>
      <dl className="facts">
        <dt>Ticket</dt>
        <dd>
          {order.ticket.title} for{" "}
          <Link to={`/events/${order.ticket.event.id}`}>{order.ticket.event.name}</Link>
        </dd>
        <dt>Seller</dt>
        <dd>{order.ticket.seller.displayName}</dd>
        <dt>Total</dt>
        <dd className="price">
          <MoneyText money={order.total} />
        </dd>
        {payment && (
          <>
            <dt>Payment</dt>
            <dd>{payment.status.toLowerCase()}</dd>
          </>
        )}
      </dl>

      {awaiting && !expired && (
        <>
          <p className="countdown">
            We're holding this ticket for you for{" "}
            <strong aria-label="time left" className="timer">
              {remaining(order.expiresAt, now)}
            </strong>
            .
          </p>
          {pay === "following" ? (
            <p role="status" className="following">
              Payment sent. Waiting for it to be confirmed: checking your order every second…
            </p>
          ) : !graphHas.payments ? (
            <p className="notice">
              Paying opens here shortly. Your ticket stays held until the timer runs out.
            </p>
          ) : publishableKey && clientSecret ? (
            <Suspense fallback={<Loading>Loading the payment form…</Loading>}>
              <StripeCheckout
                publishableKey={publishableKey}
                clientSecret={clientSecret}
                onPaid={() => setPay("following")}
              />
            </Suspense>
          ) : (
            <div className="actions">
              <button
                type="button"
                className="primary"
                onClick={() => void onPay()}
                disabled={pay === "starting"}
              >
                {publishableKey ? "Pay" : "Pay (sandbox)"} <MoneyText money={order.total} />
              </button>
              {!publishableKey && (
                <small className="hint">Sandbox mode: no card is charged, the payment is simulated.</small>
              )}
            </div>
          )}
          <HoldAnnouncer expiresAt={order.expiresAt} now={now} />
          <div className="actions">
            <ConfirmButton
              question="Cancel this order? The ticket goes back on sale."
              yes="Yes, cancel order"
              no="Keep my order"
              onConfirm={() => void onCancel()}
              disabled={cancelling || pay !== "idle"}
            >
              Cancel order
            </ConfirmButton>
          </div>
        </>
      )}
      {expired && <p role="alert">Your hold expired, so the ticket was released. Checking…</p>}
      {order.status === "EXPIRED" && (
        <p className="error" role="alert">
          Your hold expired before payment, so the ticket went back on sale.{" "}
          <Link to={`/events/${order.ticket.event.id}`}>See the event</Link>
        </p>
      )}
      {order.status === "CANCELLED" && <p>You cancelled this order; the ticket went back on sale.</p>}
      {order.status === "COMPLETE" && <p className="success">Paid. The ticket is yours. Enjoy the show!</p>}
      {order.status === "COMPLETE" && (
        <Suspense fallback={<Loading>Loading your pass…</Loading>}>
          <OrderPasses orderId={order.id} />
        </Suspense>
      )}
      {order.status === "COMPLETE" && graphHas.payments && <Receipt orderId={order.id} />}
      {actionError && (
        <p className="error" role="alert">
          {describeError(actionError.error, actionError.action)}
        </p>
      )}
    </section>
  );
}
