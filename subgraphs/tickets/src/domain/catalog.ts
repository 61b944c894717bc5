import type { Envelope, Payload } from "@ticketing/shared-events";

/** An event of the catalog as the `events` projection keeps it; `version` is its position in `event_events`. */
export interface EventState extends Payload<"ticketing.event.created"> {
  /** Lower-cased city and category, so that filters ignore case and an index can serve them. */
  cityKey: string;
  categoryKey: string | null;
  version: number;
}

export const EVENT_LOG = { logCollection: "event_events", projectionCollection: "events" } as const;
/** What `event_events` holds: so far only the creation. */
export type EventSubject = "ticketing.event.created";

export function evolveEvent(
  _state: EventState | null,
  event: Envelope<EventSubject>,
): Omit<EventState, "version"> {
  switch (event.subject) {
    case "ticketing.event.created": {
      const { data } = event;
      return { ...data, cityKey: data.city.toLowerCase(), categoryKey: data.category?.toLowerCase() ?? null };
    }
  }
}
