import { useQuery } from "@apollo/client/react";
import { Link } from "react-router";
import { MyOrdersDetailedDocument } from "../gql/graphql.js";
import { Empty, ErrorMessage, Loading } from "../components/Feedback.js";
import { DateText, MoneyText } from "../components/MoneyText.js";
import { orderNumber } from "../components/Receipt.js";
import { RequireViewer } from "../components/RequireViewer.js";
import { ORDER_STATUS } from "./Order.js";

export function MyOrdersPage() {
  return <RequireViewer what="to see your orders">{() => <Orders />}</RequireViewer>;
}

function Orders() {
  const { data, loading, error } = useQuery(MyOrdersDetailedDocument, {
    variables: { first: 50 },
    fetchPolicy: "cache-and-network",
  });
  if (loading && !data) return <Loading>Loading your orders…</Loading>;
  const orders = data?.myOrders.edges.map(({ node }) => node) ?? [];
  return (
    <section className="page">
      <h1>My orders</h1>
      <ErrorMessage error={error} />
      {data && orders.length === 0 && (
        <Empty>
          You haven't bought anything yet. <Link to="/">Find an event</Link>
        </Empty>
      )}
      <ul className="tickets">
        {orders.map((order) => (
          <li
            key={order.id}
            className={`ticket order-${order.status.toLowerCase()}`}
            data-order-id={order.id}
          >
            <div>
              <Link to={`/orders/${order.id}`}>
                {order.ticket.title}
                <span className="visually-hidden">, order {orderNumber(order.id)}</span>
              </Link>
              <div className="event">
                {order.ticket.event.name} · <DateText iso={order.ticket.event.startsAt} /> ·{" "}
                {order.ticket.event.venue}, {order.ticket.event.city}
              </div>
              <div className="seller">
                Order {orderNumber(order.id)}, placed <DateText iso={order.createdAt} />
              </div>
            </div>
            <MoneyText money={order.total} />
            <span className="status">{ORDER_STATUS[order.status]}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
