import { useEffect, useState } from "react";
import { useQuery } from "@apollo/client/react";
import { OpsHoldsDocument } from "../gql/graphql.js";
import { Empty, ErrorMessage, Loading } from "../components/Feedback.js";
import { MoneyText } from "../components/MoneyText.js";
import { describeError } from "../lib/errors.js";
import { useViewer } from "../lib/session.js";
import { LiveBadge, useLiveState } from "../live/useLive.js";
import { perMinute, useOpsFeed, type MinuteBucket } from "../live/opsFeed.js";
import { remaining } from "./Order.js";

export function OpsPage() {
  const { viewer, isOps, loading } = useViewer();
  if (loading) return <Loading />;
  if (!viewer || !isOps) {
    return (
      <section className="page">
        <h1>Operations</h1>
        <p className="error" role="alert">
          This page is for the operations team only.
        </p>
      </section>
    );
  }
  return <Dashboard />;
}

function useClock(ms: number) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

function Dashboard() {
  const live = useLiveState();
  const feed = useOpsFeed(true);
  const now = useClock(1_000);
  const holds = useQuery(OpsHoldsDocument, { variables: { first: 100 }, pollInterval: 5_000 });
  const { refetch } = holds;
  const lastSubject = feed.events.at(-1)?.subject;
  const orderEvents = feed.events.filter((event) => event.subject.includes(".order.")).length;
  useEffect(() => {
    if (orderEvents > 0) void refetch();
  }, [orderEvents, refetch]);

  const current =
    holds.data?.orders.edges
      .map(({ node }) => node)
      .filter((order) => order.status === "AWAITING_PAYMENT" && Date.parse(order.expiresAt) > now) ?? [];
  const buckets = perMinute(feed.events, now);

  return (
    <section className="page wide">
      <h1>Operations</h1>
      <LiveBadge
        state={live === "unavailable" ? "unavailable" : live}
        polling={
          live === "unavailable"
            ? "The live feed can't be reached right now."
            : "Connecting to the live feed…"
        }
      />
      {feed.error !== undefined && live !== "unavailable" && (
        <p className="error" role="alert">
          {describeError(feed.error, "opsFeed")}
        </p>
      )}
      <div className="ops-grid">
        <section aria-labelledby="chart-title">
          <h2 id="chart-title">Per minute, last 15 minutes</h2>
          <Chart buckets={buckets} />
        </section>
        <section aria-labelledby="holds-title">
          <h2 id="holds-title">Current holds ({current.length})</h2>
          {holds.loading && !holds.data && <Loading />}
          <ErrorMessage error={holds.error} />
          {holds.data && current.length === 0 && <Empty>No tickets are held right now.</Empty>}
          <ul className="holds">
            {current.map((order) => (
              <li key={order.id}>
                {order.ticket.title} · <MoneyText money={order.total} /> ·{" "}
                <span className="timer">{remaining(order.expiresAt, now)}</span> left
              </li>
            ))}
          </ul>
        </section>
      </div>
      <section aria-labelledby="feed-title">
        <h2 id="feed-title">Event feed {lastSubject && <small>(latest: {lastSubject})</small>}</h2>
        {feed.events.length === 0 ? (
          <Empty>No events yet. They appear here as they happen.</Empty>
        ) : (
          <ol className="feed" aria-live="polite">
            {[...feed.events]
              .reverse()
              .slice(0, 100)
              .map((event) => (
                <li key={event.cursor} data-subject={event.subject}>
                  <time dateTime={event.occurredAt}>{new Date(event.occurredAt).toLocaleTimeString()}</time>{" "}
                  <code>{event.subject.replace(/^ticketing\./, "")}</code>{" "}
                  <span className="data">{JSON.stringify(event.data).slice(0, 160)}</span>
                </li>
              ))}
          </ol>
        )}
      </section>
    </section>
  );
}

const SERIES = [
  { key: "orders", label: "Orders", className: "s-orders" },
  { key: "sales", label: "Sales", className: "s-sales" },
  { key: "expiries", label: "Expiries", className: "s-expiries" },
] as const;

export function Chart({ buckets }: { buckets: MinuteBucket[] }) {
  const max = Math.max(1, ...buckets.flatMap((bucket) => [bucket.orders, bucket.sales, bucket.expiries]));
  const width = 300;
  const height = 120;
  const slot = width / buckets.length;
  const bar = slot / 4;
  const totals = SERIES.map((series) => buckets.reduce((sum, bucket) => sum + bucket[series.key], 0));
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label="Orders, sales and expiries per minute">
        {buckets.map((bucket, index) =>
          SERIES.map((series, s) => {
            const value = bucket[series.key];
            const h = (value / max) * (height - 10);
            return (
              <rect
                key={`${bucket.minute}-${series.key}`}
                className={series.className}
                x={index * slot + s * bar + bar / 2}
                y={height - h}
                width={bar}
                height={h}
              >
                <title>{`${series.label}: ${value}`}</title>
              </rect>
            );
          }),
        )}
      </svg>
      <figcaption>
        {SERIES.map((series, index) => (
          <span key={series.key} className={`legend ${series.className}`}>
            {series.label}: <strong data-series={series.key}>{totals[index]}</strong>
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
