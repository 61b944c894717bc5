import type { Envelope } from "@ticketing/shared-events";
import type { Role } from "@ticketing/shared-runtime";

/** A user as the `users` projection keeps it; `version` is its position in `user_events`. */
export interface UserState {
  id: string;
  email: string;
  displayName: string;
  roles: Role[];
  version: number;
}

export const USER_LOG = { logCollection: "user_events", projectionCollection: "users" } as const;
/** What `user_events` holds: so far only the registration. */
export type UserSubject = "ticketing.user.registered";

export function evolveUser(
  _state: UserState | null,
  event: Envelope<UserSubject>,
): Omit<UserState, "version"> {
  switch (event.subject) {
    case "ticketing.user.registered": {
      const { id, email, displayName, roles } = event.data;
      return { id, email, displayName, roles };
    }
  }
}
