// A live subscriber of the gateway's WebSocket (graphql-ws, as the SPA's live link), that keeps
// what it received and how its subscription ended, each with the time it happened.
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { TICKET_CHANGES } from "./graph.js";

export interface Change {
  id: string;
  status: string;
  version: number;
}

export interface Watcher {
  received: { at: number; change: Change }[];
  /** How the subscription ended (an error, a close of the socket, a completion), if it did. */
  ended: { at: number; how: string }[];
  close(): Promise<void>;
}

function describeEnd(error: unknown): string {
  if (Array.isArray(error)) return `errors ${JSON.stringify(error)}`;
  if (error instanceof Error) return `error ${error.message}`;
  if (error && typeof error === "object" && "code" in error) {
    const { code, reason } = error as { code: number; reason?: string };
    return `socket closed ${code}${reason ? ` ${reason}` : ""}`;
  }
  return `error ${JSON.stringify(error)}`;
}

/**
 * Subscribes to `ticketChanged(eventId)` with no retries of its own: whatever reaches this
 * subscriber after a fault is what the gateway itself does about it.
 */
export function watchEvent(origin: string, eventId: string): Watcher {
  const client = createClient({
    url: `${origin.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    shouldRetry: () => false,
  });
  const received: Watcher["received"] = [];
  const ended: Watcher["ended"] = [];
  const dispose = client.subscribe<{ ticketChanged: Change }>(
    { query: TICKET_CHANGES, variables: { eventId } },
    {
      next: (result) => {
        if (result.errors?.length) ended.push({ at: Date.now(), how: describeEnd(result.errors) });
        if (result.data) received.push({ at: Date.now(), change: result.data.ticketChanged });
      },
      error: (error) => ended.push({ at: Date.now(), how: describeEnd(error) }),
      complete: () => ended.push({ at: Date.now(), how: "completed" }),
    },
  );
  return {
    received,
    ended,
    async close() {
      dispose();
      await client.dispose();
    },
  };
}
