import type { Envelope, Money, Payload } from "@ticketing/shared-events";

/** An event of the catalog as the `events` projection keeps it; `version` is its position in `event_events`. */
export interface EventState extends Payload<"ticketing.event.created"> {
  /** Lower-cased city and category, so that filters ignore case and an index can serve them. */
  cityKey: string;
  categoryKey: string | null;
  /** The highest price a pass of it may be resold for; null: no cap (absent in events from before). */
  resalePriceCap?: Money | null;
  /** Whether free-text (unverified) listings are allowed; absent: they are. */
  unverifiedListingsAllowed?: boolean;
  version: number;
}

export const EVENT_LOG = { logCollection: "event_events", projectionCollection: "events" } as const;
/** What `event_events` holds: the creation and the resale policy. */
export type EventSubject = "ticketing.event.created" | "ticketing.event.resale_policy_set";

export function evolveEvent(
  state: EventState | null,
  event: Envelope<EventSubject>,
): Omit<EventState, "version"> {
  switch (event.subject) {
    case "ticketing.event.created": {
      const { data } = event;
      return { ...data, cityKey: data.city.toLowerCase(), categoryKey: data.category?.toLowerCase() ?? null };
    }
    case "ticketing.event.resale_policy_set": {
      if (!state) throw new Error("a resale policy cannot start an event");
      const { resalePriceCap, unverifiedListingsAllowed } = event.data;
      return { ...state, resalePriceCap, unverifiedListingsAllowed };
    }
  }
}
