import type { Envelope } from "@ticketing/shared-events";

/** A partner's API key as the `api_keys` projection keeps it; `version` is its place in `api_key_events`. */
export interface ApiKeyState {
  id: string;
  name: string;
  /** SHA-256 (hex) of the key's secret part; the key itself is never stored. */
  secretHash: string;
  /** The key's own rate limit; null means the gateway's default for keys. */
  requestsPerMinute: number | null;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
  version: number;
}

export const API_KEY_LOG = { logCollection: "api_key_events", projectionCollection: "api_keys" } as const;
/** What `api_key_events` holds. */
export type ApiKeySubject = "ticketing.apikey.created" | "ticketing.apikey.revoked";

export function evolveApiKey(
  state: ApiKeyState | null,
  event: Envelope<ApiKeySubject>,
): Omit<ApiKeyState, "version"> {
  if (event.subject === "ticketing.apikey.created") {
    return { ...event.data, createdAt: event.occurredAt, revokedAt: null };
  }
  if (!state) throw new Error(`${event.subject} cannot start an API key`);
  switch (event.subject) {
    case "ticketing.apikey.revoked":
      return { ...state, revokedAt: event.occurredAt };
  }
}
