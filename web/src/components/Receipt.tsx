// A paid order's receipt: what was bought, for which event, when, how much and how it was paid.
import { useQuery } from "@apollo/client/react";
import { OrderReceiptDocument } from "../gql/graphql.js";
import { DateText, MoneyText } from "./MoneyText.js";
import { ErrorMessage, Loading } from "./Feedback.js";

/** The short reference a fan can quote: the first eight characters of the order's id. */
export function orderNumber(id: string): string {
  return id.replace(/-/g, "").slice(0, 8).toUpperCase();
}

export function Receipt({ orderId }: { orderId: string }) {
  const { data, loading, error } = useQuery(OrderReceiptDocument, { variables: { id: orderId } });
  if (loading && !data) return <Loading>Loading your receipt…</Loading>;
  const order = data?.order;
  const payment = order?.payment;
  if (!order || !payment) return <ErrorMessage error={error} />;
  const { ticket } = order;
  return (
    <section className="receipt" aria-labelledby={`receipt-${order.id}`}>
      <h2 id={`receipt-${order.id}`}>Receipt</h2>
      <dl className="facts">
        <dt>Order number</dt>
        <dd>{orderNumber(order.id)}</dd>
        <dt>Ordered</dt>
        <dd>
          <DateText iso={order.createdAt} />
        </dd>
        <dt>Ticket</dt>
        <dd>
          {ticket.title}
          {ticket.section && `, section ${ticket.section}`}
        </dd>
        <dt>Event</dt>
        <dd>
          {ticket.event.name}, <DateText iso={ticket.event.startsAt} />, {ticket.event.venue},{" "}
          {ticket.event.city}
        </dd>
        <dt>Seller</dt>
        <dd>{ticket.seller.displayName}</dd>
        <dt>Amount paid</dt>
        <dd className="price">
          <MoneyText money={payment.received ?? order.total} />
        </dd>
        <dt>Paid on</dt>
        <dd>{payment.paidAt ? <DateText iso={payment.paidAt} /> : "—"}</dd>
        <dt>Paid with</dt>
        <dd>{payment.method}</dd>
        <dt>Payment reference</dt>
        <dd>
          <code>{payment.paymentIntentId}</code>
        </dd>
      </dl>
      <button type="button" onClick={() => window.print()}>
        Print receipt
      </button>
    </section>
  );
}
