import { useEffect, useState } from "react";
import { useQuery } from "@apollo/client/react";
import { OpsHoldsDocument } from "../gql/graphql.js";
import { Empty, ErrorMessage, Loading } from "../components/Feedback.js";
import { MoneyText } from "../components/MoneyText.js";
import { describeError } from "../lib/errors.js";
import { formatMoney, fractionDigits } from "../lib/money.js";
import { useViewer } from "../lib/session.js";
import { LiveBadge, useLiveState } from "../live/useLive.js";
import {
  behind,
  countAxis,
  currenciesOf,
  HISTORY_MINUTES,
  SERIES,
  useOpsDashboard,
  windowAt,
  type Backlog,
  type Minute,
  type OpsEvent,
} from "../live/opsFeed.js";
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
  const dashboard = useOpsDashboard(true);
  const now = useClock(1_000);
  const holds = useQuery(OpsHoldsDocument, { variables: { first: 100 }, pollInterval: 5_000 });
  const { refetch } = holds;
  const orderEvents = dashboard.feed.shown.filter((event) => event.kind === "order").length;
  useEffect(() => {
    if (orderEvents > 0) void refetch();
  }, [orderEvents, refetch]);

  const current =
    holds.data?.orders.edges
      .map(({ node }) => node)
      .filter((order) => order.status === "AWAITING_PAYMENT" && Date.parse(order.expiresAt) > now) ?? [];
  const minutes = dashboard.minutes ? windowAt(dashboard.minutes, now) : null;

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
      {dashboard.error !== undefined && live !== "unavailable" && (
        <p className="error" role="alert">
          {describeError(dashboard.error, "opsFeed")}
        </p>
      )}
      {dashboard.backlog && <BacklogAlarm backlog={dashboard.backlog} />}
      <section aria-labelledby="chart-title">
        <h2 id="chart-title">Per minute, last {HISTORY_MINUTES} minutes</h2>
        {minutes ? <Chart minutes={minutes} /> : <Loading />}
      </section>
      <div className="ops-grid">
        <section aria-labelledby="revenue-title">
          <h2 id="revenue-title">Revenue by currency</h2>
          {minutes && <Revenue minutes={minutes} />}
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
      <Feed
        events={dashboard.feed.shown}
        queued={dashboard.feed.queued.length}
        paused={dashboard.feed.paused}
        onPause={dashboard.pause}
        onResume={dashboard.resume}
      />
    </section>
  );
}

/** The consumers' backlog, and an alarm when one is past the threshold. */
export function BacklogAlarm({ backlog }: { backlog: Backlog }) {
  const late = behind(backlog.consumers);
  return (
    <section aria-labelledby="backlog-title" className="backlog">
      <h2 id="backlog-title">Consumers</h2>
      {late.length > 0 && (
        <p className="alarm" role="alert">
          Falling behind:{" "}
          {late
            .map(
              (consumer) =>
                `${consumer.name} has ${consumer.pending + consumer.ackPending} events waiting` +
                (consumer.redelivered > 0 ? ` (${consumer.redelivered} redelivered)` : ""),
            )
            .join("; ")}
          . The alarm sounds at {backlog.threshold} waiting.
        </p>
      )}
      {backlog.consumers.length === 0 ? (
        <Empty>No consumer has reported yet.</Empty>
      ) : (
        <table className="consumers">
          <thead>
            <tr>
              <th scope="col">Consumer</th>
              <th scope="col">Pending</th>
              <th scope="col">Unacknowledged</th>
              <th scope="col">Redelivered</th>
            </tr>
          </thead>
          <tbody>
            {backlog.consumers.map((consumer) => (
              <tr key={consumer.name} className={consumer.behind ? "behind" : undefined}>
                <th scope="row">{consumer.name}</th>
                <td>{consumer.pending}</td>
                <td>{consumer.ackPending}</td>
                <td>{consumer.redelivered}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

const WIDTH = 640;
const HEIGHT = 220;
const MARGIN = { top: 12, right: 12, bottom: 40, left: 48 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

/** The axes of a per-minute chart: time below (a label every 10 minutes), `ticks` on the left. */
function Axes({
  minutes,
  ticks,
  top,
  yTitle,
  format = String,
}: {
  minutes: Minute[];
  ticks: number[];
  top: number;
  yTitle: string;
  format?: (value: number) => string;
}) {
  const slot = PLOT_W / minutes.length;
  return (
    <g className="axes">
      <line x1={MARGIN.left} y1={MARGIN.top + PLOT_H} x2={MARGIN.left + PLOT_W} y2={MARGIN.top + PLOT_H} />
      <line x1={MARGIN.left} y1={MARGIN.top} x2={MARGIN.left} y2={MARGIN.top + PLOT_H} />
      {ticks.map((tick) => {
        const y = MARGIN.top + PLOT_H - (tick / top) * PLOT_H;
        return (
          <g key={tick} className="tick">
            <line x1={MARGIN.left - 4} y1={y} x2={MARGIN.left + PLOT_W} y2={y} className="grid" />
            <text x={MARGIN.left - 6} y={y + 4} textAnchor="end">
              {format(tick)}
            </text>
          </g>
        );
      })}
      {minutes.map((minute, index) =>
        new Date(minute.at).getMinutes() % 10 === 0 ? (
          <g key={minute.at} className="tick">
            <line
              x1={MARGIN.left + (index + 0.5) * slot}
              y1={MARGIN.top + PLOT_H}
              x2={MARGIN.left + (index + 0.5) * slot}
              y2={MARGIN.top + PLOT_H + 4}
            />
            <text x={MARGIN.left + (index + 0.5) * slot} y={MARGIN.top + PLOT_H + 16} textAnchor="middle">
              {timeFormat.format(minute.at)}
            </text>
          </g>
        ) : null,
      )}
      <text className="axis-title" x={MARGIN.left + PLOT_W / 2} y={HEIGHT - 4} textAnchor="middle">
        Time (minute started)
      </text>
      <text
        className="axis-title"
        transform={`translate(12 ${MARGIN.top + PLOT_H / 2}) rotate(-90)`}
        textAnchor="middle"
      >
        {yTitle}
      </text>
    </g>
  );
}

/** Orders, sales, expiries, cancellations and refunds per minute: a line each, with axes and a legend. */
export function Chart({ minutes }: { minutes: Minute[] }) {
  const max = Math.max(0, ...minutes.flatMap((minute) => SERIES.map((series) => minute[series.key])));
  const { top, ticks } = countAxis(max);
  const slot = PLOT_W / minutes.length;
  const x = (index: number) => MARGIN.left + (index + 0.5) * slot;
  const y = (value: number) => MARGIN.top + PLOT_H - (value / top) * PLOT_H;
  const totals = SERIES.map((series) => minutes.reduce((sum, minute) => sum + minute[series.key], 0));
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby="chart-title">
        <Axes minutes={minutes} ticks={ticks} top={top} yTitle="Events per minute" />
        {SERIES.map((series) => (
          <g key={series.key} className={`series s-${series.key}`}>
            <polyline
              points={minutes.map((minute, index) => `${x(index)},${y(minute[series.key])}`).join(" ")}
            />
            {minutes.map((minute, index) =>
              minute[series.key] > 0 ? (
                <circle key={minute.at} cx={x(index)} cy={y(minute[series.key])} r={2.5}>
                  <title>{`${timeFormat.format(minute.at)} · ${series.label}: ${minute[series.key]}`}</title>
                </circle>
              ) : null,
            )}
          </g>
        ))}
      </svg>
      <figcaption className="legend-list">
        {SERIES.map((series, index) => (
          <span key={series.key} className={`legend s-${series.key}`}>
            <svg width="14" height="10" aria-hidden="true">
              <line x1="0" y1="5" x2="14" y2="5" />
            </svg>
            {series.label}: <strong data-series={series.key}>{totals[index]}</strong>
          </span>
        ))}
      </figcaption>
    </figure>
  );
}

/** One bar chart per currency: amounts in different currencies are never added together. */
export function Revenue({ minutes }: { minutes: Minute[] }) {
  const currencies = currenciesOf(minutes);
  if (currencies.length === 0) return <Empty>No sales in the last hour.</Empty>;
  return (
    <>
      {currencies.map((currency) => {
        const digits = fractionDigits(currency);
        const values = minutes.map((minute) => minute.revenue[currency] ?? 0);
        const { top, ticks } = countAxis(Math.max(...values) / 10 ** digits);
        const slot = PLOT_W / minutes.length;
        const sum = values.reduce((total, value) => total + value, 0);
        return (
          <figure key={currency} className="chart revenue">
            <svg
              viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
              role="img"
              aria-label={`Revenue in ${currency} per minute`}
            >
              <Axes
                minutes={minutes}
                ticks={ticks}
                top={top}
                yTitle={`${currency} per minute`}
                format={(value) => value.toLocaleString()}
              />
              {values.map((value, index) => {
                const h = (value / 10 ** digits / top) * PLOT_H;
                return value > 0 ? (
                  <rect
                    key={minutes[index]!.at}
                    className="s-revenue"
                    x={MARGIN.left + index * slot + slot * 0.15}
                    y={MARGIN.top + PLOT_H - h}
                    width={slot * 0.7}
                    height={h}
                  >
                    <title>{`${timeFormat.format(minutes[index]!.at)} · ${formatMoney({ amount: value, currency })}`}</title>
                  </rect>
                ) : null;
              })}
            </svg>
            <figcaption>
              <span className="legend s-revenue">
                <svg width="14" height="10" aria-hidden="true">
                  <rect width="14" height="10" />
                </svg>
                Sales in {currency}, last hour:{" "}
                <strong data-revenue={currency}>{formatMoney({ amount: sum, currency })}</strong>
              </span>
            </figcaption>
          </figure>
        );
      })}
    </>
  );
}

const KINDS = [
  { kind: "order", label: "Orders" },
  { kind: "payment", label: "Payments" },
  { kind: "ticket", label: "Tickets" },
  { kind: "expiration", label: "Expirations" },
  { kind: "event", label: "Events" },
  { kind: "user", label: "Sign-ups" },
  { kind: "session", label: "Sessions" },
  { kind: "apikey", label: "API keys" },
] as const;

const SHOWN = 100;

/** The feed in words, newest first: filtered by kind, pausable (what arrives meanwhile waits). */
export function Feed({
  events,
  queued,
  paused,
  onPause,
  onResume,
}: {
  events: OpsEvent[];
  queued: number;
  paused: boolean;
  onPause: () => void;
  onResume: () => void;
}) {
  const [hidden, setHidden] = useState<ReadonlySet<string>>(() => new Set());
  const toggle = (kind: string) =>
    setHidden((previous) => {
      const next = new Set(previous);
      if (!next.delete(kind)) next.add(kind);
      return next;
    });
  const visible = events.filter((event) => !hidden.has(event.kind));
  return (
    <section aria-labelledby="feed-title">
      <h2 id="feed-title">Event feed</h2>
      <div className="feed-controls">
        <fieldset>
          <legend>Show</legend>
          {KINDS.map(({ kind, label }) => (
            <label key={kind}>
              <input type="checkbox" checked={!hidden.has(kind)} onChange={() => toggle(kind)} /> {label}
            </label>
          ))}
        </fieldset>
        {paused ? (
          <button type="button" onClick={onResume}>
            Resume ({queued} new)
          </button>
        ) : (
          <button type="button" onClick={onPause}>
            Pause
          </button>
        )}
        {paused && (
          <p className="paused" role="status">
            Paused: {queued} new {queued === 1 ? "event is" : "events are"} waiting.
          </p>
        )}
      </div>
      {visible.length === 0 ? (
        <Empty>No events yet. They appear here as they happen.</Empty>
      ) : (
        <ol className="feed" aria-live={paused ? "off" : "polite"}>
          {[...visible]
            .reverse()
            .slice(0, SHOWN)
            .map((event) => (
              <li key={event.cursor} data-subject={event.subject} data-kind={event.kind}>
                <time dateTime={event.occurredAt}>{new Date(event.occurredAt).toLocaleTimeString()}</time>{" "}
                <span className={`kind k-${event.kind}`}>{event.kind}</span>{" "}
                <span className="description">{event.description}</span>
              </li>
            ))}
        </ol>
      )}
    </section>
  );
}
