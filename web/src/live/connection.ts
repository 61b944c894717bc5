// The WebSocket side of the graph (graphql-ws at /graphql), loaded only when a page subscribes.
// Its state is public so pages can say whether they are live, and fall back to polling while
// the graph offers no subscriptions or the connection is down.
import type { Client } from "graphql-ws";

export type LiveState = "idle" | "connecting" | "live" | "reconnecting" | "unavailable";

let state: LiveState = "idle";
const listeners = new Set<() => void>();

function setState(next: LiveState) {
  if (next === state) return;
  state = next;
  for (const listener of listeners) listener();
}

export const liveState = {
  get: () => state,
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  /** For tests: pretend the graph has (or has not) a live endpoint. */
  set: setState,
};

export function liveUrl(location: Pick<Location, "protocol" | "host"> = window.location): string {
  return `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
}

let client: Promise<Client> | undefined;

/** The one graphql-ws client of the page; the browser sends the session cookie on its handshake. */
export function liveClient(): Promise<Client> {
  client ??= import("graphql-ws").then(({ createClient }) => {
    let everConnected = false;
    return createClient({
      url: liveUrl(),
      lazy: true,
      lazyCloseTimeout: 3_000,
      // Never reached: the graph has no live endpoint here; pages poll instead. Once it was
      // reached, keep coming back (with the client's randomised back-off).
      shouldRetry: () => everConnected,
      retryAttempts: Number.POSITIVE_INFINITY,
      on: {
        connecting: () => setState(everConnected ? "reconnecting" : "connecting"),
        connected: () => {
          everConnected = true;
          setState("live");
        },
        closed: () => setState(everConnected ? "reconnecting" : "unavailable"),
      },
    });
  });
  return client;
}
