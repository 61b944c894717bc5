// The passes a paid order issued, on the order page. A pass is issued just after the payment
// completes: until it is there, the order is asked again every second for a while.
import { useEffect } from "react";
import { Link } from "react-router";
import { useQuery } from "@apollo/client/react";
import { OrderPassesDocument } from "../gql/graphql.js";
import { ErrorMessage, Loading } from "./Feedback.js";
import { PassCard } from "./PassCard.js";

const ISSUE_POLL_MS = 1_000;

export default function OrderPasses({ orderId }: { orderId: string }) {
  const { data, loading, error, startPolling, stopPolling } = useQuery(OrderPassesDocument, {
    variables: { id: orderId },
  });
  const passes = data?.order?.passes;
  const waiting = passes !== undefined && passes.length === 0;
  useEffect(() => {
    if (waiting) startPolling(ISSUE_POLL_MS);
    else stopPolling();
    return () => stopPolling();
  }, [waiting, startPolling, stopPolling]);

  if (loading && !data) return <Loading>Loading your pass…</Loading>;
  if (!passes) return <ErrorMessage error={error} />;
  return (
    <section className="passes" aria-labelledby="order-passes">
      <h2 id="order-passes">Your pass</h2>
      {waiting ? (
        <Loading>Issuing your pass…</Loading>
      ) : (
        <>
          {passes.map((pass) => (
            <PassCard key={pass.id} pass={pass} level={3} />
          ))}
          <p>
            <Link to="/passes">All your tickets</Link>, to print, transfer or resell them.
          </p>
        </>
      )}
    </section>
  );
}
