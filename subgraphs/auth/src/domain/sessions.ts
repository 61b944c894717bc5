import type { Envelope } from "@ticketing/shared-events";

/** A session as the `sessions` projection keeps it; `version` is its position in `session_events`. */
export interface SessionState {
  sessionId: string;
  userId: string;
  /** ISO date after which the session cannot be renewed. */
  expiresAt: string;
  revoked: boolean;
  version: number;
}

export const SESSION_LOG = { logCollection: "session_events", projectionCollection: "sessions" } as const;
/** What `session_events` holds. */
export type SessionSubject = "ticketing.session.started" | "ticketing.session.revoked";

export function evolveSession(
  state: SessionState | null,
  event: Envelope<SessionSubject>,
): Omit<SessionState, "version"> {
  if (event.subject === "ticketing.session.started") {
    const { sessionId, userId, expiresAt } = event.data;
    return { sessionId, userId, expiresAt, revoked: false };
  }
  if (!state) throw new Error(`${event.subject} cannot start a session`);
  switch (event.subject) {
    case "ticketing.session.revoked":
      return { ...state, revoked: true };
  }
}

/** Whether the session still lets its user in at `now`. */
export function isSessionLive(session: SessionState | null, now = Date.now()): session is SessionState {
  return session !== null && !session.revoked && Date.parse(session.expiresAt) > now;
}
