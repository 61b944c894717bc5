// The ops feed: every domain event, live. After a reconnect it resumes from the last cursor it
// saw (the subscription's `since` is read afresh each time graphql-ws subscribes again), and a
// cursor seen twice is dropped, so nothing is missed or counted twice.
import { useEffect, useRef, useState } from "react";
import { print } from "graphql";
import { OpsFeedDocument, type OpsFeedSubscription } from "../gql/graphql.js";
import { liveClient } from "./connection.js";

export type OpsEvent = OpsFeedSubscription["opsFeed"];

const KEEP = 1_000;

export function useOpsFeed(enabled: boolean) {
  const [events, setEvents] = useState<OpsEvent[]>([]);
  const [error, setError] = useState<unknown>();
  const cursor = useRef<string | null>(null);
  const seen = useRef(new Set<string>());

  useEffect(() => {
    if (!enabled) return;
    let dispose: (() => void) | undefined;
    let stopped = false;
    const payload = {
      query: print(OpsFeedDocument),
      operationName: "OpsFeed",
      get variables() {
        return { since: cursor.current };
      },
    };
    liveClient()
      .then((client) => {
        if (stopped) return;
        dispose = client.subscribe<OpsFeedSubscription>(payload, {
          next: (result) => {
            if (result.errors?.length) {
              setError({ code: result.errors[0]?.extensions?.code });
              return;
            }
            const event = result.data?.opsFeed;
            if (!event || seen.current.has(event.cursor)) return;
            seen.current.add(event.cursor);
            cursor.current = event.cursor;
            setEvents((previous) => [...previous.slice(-(KEEP - 1)), event]);
          },
          error: (caught: unknown) => setError(caught ?? new Error("closed")),
          complete: () => undefined,
        });
      })
      .catch(setError);
    return () => {
      stopped = true;
      dispose?.();
    };
  }, [enabled]);

  return { events, error, cursor: cursor.current };
}

export interface MinuteBucket {
  minute: number;
  orders: number;
  sales: number;
  expiries: number;
}

/** Orders, sales and expiries per minute over the last `minutes`, oldest first. */
export function perMinute(events: OpsEvent[], now: number, minutes = 15): MinuteBucket[] {
  const last = Math.floor(now / 60_000);
  const buckets = Array.from({ length: minutes }, (_, index) => ({
    minute: last - minutes + 1 + index,
    orders: 0,
    sales: 0,
    expiries: 0,
  }));
  for (const event of events) {
    const bucket = buckets[Math.floor(Date.parse(event.occurredAt) / 60_000) - (last - minutes + 1)];
    if (!bucket) continue;
    if (event.subject.endsWith(".order.created")) bucket.orders += 1;
    else if (event.subject.endsWith(".order.completed")) bucket.sales += 1;
    else if (event.subject.endsWith(".order.expired")) bucket.expiries += 1;
  }
  return buckets;
}
