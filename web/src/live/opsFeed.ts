// The ops dashboard's data: the last hour as the gateway counted it (opsActivity, over the
// WebSocket), then the feed from the activity's cursor on. Events after that cursor are added to
// the counts; those at or before it (the recent feed shown on load) were counted already, so
// nothing is counted twice. After a reconnect the feed resumes from the last cursor it saw (the
// subscription's `since` is read afresh each time graphql-ws subscribes again), and a cursor seen
// twice is dropped. The consumers' backlog is asked again every few seconds.
import { useEffect, useReducer, useRef, useState } from "react";
import { print, type GraphQLFormattedError } from "graphql";
import type { Client } from "graphql-ws";
import {
  OpsActivityDocument,
  OpsEventsDocument,
  type OpsActivityQuery,
  type OpsEventsSubscription,
} from "../gql/graphql.js";
import { liveClient } from "./connection.js";

export type OpsEvent = OpsEventsSubscription["opsFeed"];
type Activity = OpsActivityQuery["opsActivity"];
export type OpsConsumer = Activity["consumers"][number];

export const HISTORY_MINUTES = 60;
const MINUTE_MS = 60_000;
/** Events kept in the feed. */
const KEEP = 500;
/** How many events from before the page opened the feed shows (they are counted already). */
const BACKFILL = 50;
const BACKLOG_EVERY_MS = 5_000;
const HISTORY_RETRY_MS = 3_000;

export const SERIES = [
  { key: "orders", label: "Orders placed" },
  { key: "sales", label: "Sales" },
  { key: "expiries", label: "Expiries" },
  { key: "cancellations", label: "Cancellations" },
  { key: "refunds", label: "Refunds" },
] as const;
export type SeriesKey = (typeof SERIES)[number]["key"];

export interface Minute {
  /** The minute's start, in milliseconds. */
  at: number;
  orders: number;
  sales: number;
  expiries: number;
  cancellations: number;
  refunds: number;
  /** Minor units by currency: never added across currencies. */
  revenue: Record<string, number>;
}

const emptyMinute = (at: number): Minute => ({
  at,
  orders: 0,
  sales: 0,
  expiries: 0,
  cancellations: 0,
  refunds: 0,
  revenue: {},
});

/** The gateway's minutes as the page keeps them. */
export function fromServer(minutes: Activity["minutes"]): Minute[] {
  return minutes.map((minute) => ({
    at: Date.parse(minute.at),
    orders: minute.orders,
    sales: minute.sales,
    expiries: minute.expiries,
    cancellations: minute.cancellations,
    refunds: minute.refunds,
    revenue: Object.fromEntries(minute.revenue.map((money) => [money.currency, money.amount])),
  }));
}

/** Which count an event adds to, if any. */
export function seriesOf(subject: string): SeriesKey | null {
  switch (subject) {
    case "ticketing.order.created":
      return "orders";
    case "ticketing.order.completed":
      return "sales";
    case "ticketing.order.expired":
      return "expiries";
    case "ticketing.order.cancelled":
      return "cancellations";
    case "ticketing.payment.refunded":
      return "refunds";
    default:
      return null;
  }
}

/** The minutes with one more event counted (a sale adds its amount to its currency's revenue). */
export function countEvent(minutes: Minute[], event: OpsEvent): Minute[] {
  const series = seriesOf(event.subject);
  if (!series) return minutes;
  const at = Math.floor(Date.parse(event.occurredAt) / MINUTE_MS) * MINUTE_MS;
  const index = minutes.findIndex((minute) => minute.at === at);
  const minute = index >= 0 ? minutes[index]! : emptyMinute(at);
  const counted: Minute = { ...minute, [series]: minute[series] + 1 };
  if (series === "sales" && event.amount) {
    const { currency, amount } = event.amount;
    counted.revenue = { ...minute.revenue, [currency]: (minute.revenue[currency] ?? 0) + amount };
  }
  const next =
    index >= 0
      ? minutes.map((other, at) => (at === index ? counted : other))
      : [...minutes, counted].sort((a, b) => a.at - b.at);
  return next.slice(-2 * HISTORY_MINUTES);
}

/** The `size` minutes up to the one `now` is in, oldest first, with the minutes nothing happened in. */
export function windowAt(minutes: Minute[], now: number, size = HISTORY_MINUTES): Minute[] {
  const last = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const byStart = new Map(minutes.map((minute) => [minute.at, minute]));
  return Array.from({ length: size }, (_, index) => {
    const at = last - (size - 1 - index) * MINUTE_MS;
    return byStart.get(at) ?? emptyMinute(at);
  });
}

/** The currencies anything was sold in over the minutes, sorted. */
export function currenciesOf(minutes: Minute[]): string[] {
  return [...new Set(minutes.flatMap((minute) => Object.keys(minute.revenue)))].sort();
}

/** A round top for a count axis and its ticks: 0 to at least `max`, in steps of 1, 2 or 5 × 10ⁿ. */
export function countAxis(max: number, wanted = 4): { top: number; ticks: number[] } {
  if (max <= 0) return { top: 1, ticks: [0, 1] };
  const rough = max / wanted;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough)!;
  const top = Math.max(step, Math.ceil(max / step) * step);
  const ticks = Array.from({ length: Math.round(top / step) + 1 }, (_, index) => index * step);
  return { top, ticks };
}

export interface FeedState {
  shown: OpsEvent[];
  /** Arrived while paused; shown on resume. */
  queued: OpsEvent[];
  paused: boolean;
}

export type FeedAction = { type: "arrived"; event: OpsEvent } | { type: "pause" } | { type: "resume" };

export const emptyFeed: FeedState = { shown: [], queued: [], paused: false };

export function feedReducer(state: FeedState, action: FeedAction): FeedState {
  switch (action.type) {
    case "arrived":
      return state.paused
        ? { ...state, queued: [...state.queued, action.event].slice(-KEEP) }
        : { ...state, shown: [...state.shown, action.event].slice(-KEEP) };
    case "pause":
      return { ...state, paused: true };
    case "resume":
      return { paused: false, queued: [], shown: [...state.shown, ...state.queued].slice(-KEEP) };
  }
}

/** The consumers at or past the threshold. */
export function behind(consumers: readonly OpsConsumer[]): OpsConsumer[] {
  return consumers.filter((consumer) => consumer.behind);
}

/** One query over the WebSocket: its single result, or the errors it was refused with. */
function ask<T>(client: Client, query: string, variables: Record<string, unknown>) {
  return new Promise<{ data?: T | null; errors?: readonly GraphQLFormattedError[] }>((resolve, reject) => {
    let result: { data?: T | null; errors?: readonly GraphQLFormattedError[] } | undefined;
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => (result = value),
        error: (error: unknown) =>
          Array.isArray(error)
            ? resolve({ errors: error as GraphQLFormattedError[] })
            : reject(error instanceof Error ? error : new Error("The live connection closed")),
        complete: () => (result ? resolve(result) : reject(new Error("No answer"))),
      },
    );
  });
}

const codeOf = (errors: readonly GraphQLFormattedError[] | undefined) => ({
  code: errors?.[0]?.extensions?.code,
});

export interface Backlog {
  consumers: OpsConsumer[];
  threshold: number;
  readAt: string | null;
}

export function useOpsDashboard(enabled: boolean) {
  const [minutes, setMinutes] = useState<Minute[] | null>(null);
  const [feed, dispatch] = useReducer(feedReducer, emptyFeed);
  const [backlog, setBacklog] = useState<Backlog | null>(null);
  const [error, setError] = useState<unknown>();
  const counted = useRef(0);
  const cursor = useRef<string | null>(null);
  const seen = useRef(new Set<string>());

  useEffect(() => {
    if (!enabled) return;
    let dispose: (() => void) | undefined;
    let poll: ReturnType<typeof setInterval> | undefined;
    let stopped = false;
    const activityQuery = print(OpsActivityDocument);
    const payload = {
      query: print(OpsEventsDocument),
      operationName: "OpsEvents",
      get variables() {
        return { since: cursor.current };
      },
    };
    const readBacklog = (activity: Activity) =>
      setBacklog({
        consumers: activity.consumers,
        threshold: activity.backlogThreshold,
        readAt: activity.consumersReadAt ?? null,
      });

    void (async () => {
      try {
        const client = await liveClient();
        let activity: Activity | undefined;
        for (;;) {
          const history = await ask<OpsActivityQuery>(client, activityQuery, { minutes: HISTORY_MINUTES });
          if (stopped) return;
          activity = history.data?.opsActivity;
          if (activity) break;
          const refused = codeOf(history.errors);
          setError(refused);
          // A gateway that has just started is still reading the hour: ask again shortly.
          if (refused.code !== "SERVICE_UNAVAILABLE") return;
          await new Promise((resolve) => setTimeout(resolve, HISTORY_RETRY_MS));
          if (stopped) return;
        }
        setError(undefined);
        counted.current = Number(activity.cursor);
        cursor.current = String(Math.max(0, counted.current - BACKFILL));
        setMinutes(fromServer(activity.minutes));
        readBacklog(activity);
        dispose = client.subscribe<OpsEventsSubscription>(payload, {
          next: (result) => {
            if (result.errors?.length) {
              setError(codeOf(result.errors));
              return;
            }
            const event = result.data?.opsFeed;
            if (!event || seen.current.has(event.cursor)) return;
            seen.current.add(event.cursor);
            cursor.current = event.cursor;
            if (Number(event.cursor) > counted.current) {
              setMinutes((previous) => (previous ? countEvent(previous, event) : previous));
            }
            dispatch({ type: "arrived", event });
          },
          error: (caught: unknown) => setError(caught ?? new Error("closed")),
          complete: () => undefined,
        });
        poll = setInterval(() => {
          ask<OpsActivityQuery>(client, activityQuery, { minutes: 1 })
            .then((latest) => latest.data && readBacklog(latest.data.opsActivity))
            .catch(() => undefined);
        }, BACKLOG_EVERY_MS);
      } catch (caught) {
        if (!stopped) setError(caught);
      }
    })();
    return () => {
      stopped = true;
      clearInterval(poll);
      dispose?.();
    };
  }, [enabled]);

  return {
    minutes,
    feed,
    pause: () => dispatch({ type: "pause" }),
    resume: () => dispatch({ type: "resume" }),
    backlog,
    error,
  };
}
