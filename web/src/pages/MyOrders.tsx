import { useQuery } from "@apollo/client/react";
import { Link } from "react-router";
import { MyOrdersDocument } from "../gql/graphql.js";
import { Empty, ErrorMessage, Loading } from "../components/Feedback.js";
import { DateText, MoneyText } from "../components/MoneyText.js";
import { RequireViewer } from "../components/RequireViewer.js";
import { ORDER_STATUS } from "./Order.js";

export function MyOrdersPage() {
  return <RequireViewer what="to see your orders">{() => <Orders />}</RequireViewer>;
}

function Orders() {
  const { data, loading, error } = useQuery(MyOrdersDocument, {
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
          <li key={order.id} className={`ticket order-${order.status.toLowerCase()}`}>
            <div>
              <Link to={`/orders/${order.id}`}>{order.ticket.title}</Link>
              <div className="seller">
                Ordered <DateText iso={order.createdAt} />
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
