// One follower of ticket changes per gateway process, fanned out to the subscribers of each event
// (fan-out.ts). It resumes after the last change it had across a NATS outage or restart, so
// subscribers stay subscribed and get every change once the stream is back; only when it cannot
// go on (its connection closed) are they ended, with SERVICE_UNAVAILABLE, to subscribe again.
import type { NatsConnection } from "@nats-io/transport-node";
import { follow } from "@ticketing/shared-events";
import type { Logger } from "pino";
import { LiveEnded } from "./ended.js";
import { TicketFanOut, type Subscriber, type TicketSubscription } from "./fan-out.js";

export interface TicketFeed {
  subscribe(subscriber: Subscriber): TicketSubscription;
  /** Ends every subscription with the error (a new supergraph, a shutdown). */
  endAll(error: LiveEnded | null): void;
  size(): number;
  stop(): Promise<void>;
}

export async function startTicketFeed(
  nc: NatsConnection,
  { logger, maxPending = 1_000 }: { logger: Logger; maxPending?: number },
): Promise<TicketFeed> {
  const fanOut = new TicketFanOut(maxPending);
  /** Set once the feed has stopped for good: every subscription ends with it. */
  let unavailable: LiveEnded | undefined;
  const follower = await follow(
    nc,
    ["ticketing.ticket.created", "ticketing.ticket.updated"],
    { from: "new", logger },
    (event) => fanOut.offer(event),
  );
  void follower.ended.then((reason) => {
    if (!reason) return;
    unavailable = new LiveEnded("Live updates are unavailable; subscribe again later", "SERVICE_UNAVAILABLE");
    fanOut.endAll(unavailable);
  });

  return {
    subscribe(subscriber) {
      const subscription = fanOut.subscribe(subscriber);
      if (unavailable) subscription.end(unavailable);
      return subscription;
    },
    endAll: (error) => fanOut.endAll(error),
    size: () => fanOut.size(),
    stop: () => follower.stop(),
  };
}
