import type { Envelope, Payload } from "@ticketing/shared-events";

/** An event of the catalog as the `events` projection keeps it; `version` is its position in `event_events`. */
export interface EventState extends Payload<"ticketing.event.created"> {
  /** Lower-cased city and category, so that filters ignore case and an index can serve them. */
  cityKey: string;
  categoryKey: string | null;
  version: number;
}

export const EVENT_LOG = { logCollection: "event_events", projectionCollection: "events" } as const;

export function evolveEvent(state: EventState | null, event: Envelope): Omit<EventState, "version"> {
  if (event.subject === "ticketing.event.created") {
    const data = event.data as Payload<"ticketing.event.created">;
    return { ...data, cityKey: data.city.toLowerCase(), categoryKey: data.category?.toLowerCase() ?? null };
  }
  if (!state) throw new Error(`${event.subject} cannot start an event`);
  return state;
}
