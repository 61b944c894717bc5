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

export function evolveUser(state: UserState | null, event: Envelope): Omit<UserState, "version"> {
  if (event.subject === "ticketing.user.registered") {
    const { id, email, displayName, roles } = event.data as Envelope<"ticketing.user.registered">["data"];
    return { id, email, displayName, roles };
  }
  if (!state) throw new Error(`${event.subject} cannot start a user`);
  return state;
}
