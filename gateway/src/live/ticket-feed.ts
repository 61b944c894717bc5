// One follower of ticket changes per gateway process, fanned out to the subscribers of each event.
// It resumes after the last change it had across a NATS outage or restart, so subscribers stay
// subscribed and get every change once the stream is back; only when it cannot go on (its
// connection closed) are they ended, with SERVICE_UNAVAILABLE, to subscribe again.
// A subscriber keeps at most one pending change per ticket (the newest) and resolves it only when
// its client is ready for it, so a slow client holds back nobody else and its backlog is bounded
// by the tickets of its event; past `maxPending` it is ended (its client resubscribes and reads
// the current state).
import type { NatsConnection } from "@nats-io/transport-node";
import { follow, type Envelope } from "@ticketing/shared-events";
import type { ExecutionResult } from "graphql";
import { GraphQLError } from "graphql";
import type { Logger } from "pino";

export type TicketEnvelope = Envelope<"ticketing.ticket.created" | "ticketing.ticket.updated">;

export class LiveEnded extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** One subscription's stream of results: an async iterator graphql-ws pulls from. */
export class TicketSubscription implements AsyncIterableIterator<ExecutionResult> {
  private readonly pending = new Map<string, TicketEnvelope>();
  private waiting: (() => void) | undefined;
  private ended: LiveEnded | null | undefined;

  constructor(
    readonly eventId: string,
    private readonly resolve: (event: TicketEnvelope) => Promise<ExecutionResult | null>,
    private readonly maxPending: number,
    private readonly onEnd: () => void,
  ) {}

  /** A change of one of the event's tickets; replaces an older one of the same ticket. */
  offer(event: TicketEnvelope): void {
    if (this.ended !== undefined) return;
    const ticketId = event.data.id;
    const queued = this.pending.get(ticketId);
    if (queued && queued.version >= event.version) return;
    this.pending.delete(ticketId);
    this.pending.set(ticketId, event);
    if (this.pending.size > this.maxPending) {
      this.end(new LiveEnded("This subscription fell too far behind; subscribe again", "SLOW_CONSUMER"));
      return;
    }
    this.wake();
  }

  /** Ends the stream; with an error, the client receives it before the end. */
  end(error: LiveEnded | null = null): void {
    if (this.ended !== undefined) return;
    this.ended = error;
    if (!error) this.pending.clear();
    this.onEnd();
    this.wake();
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    for (;;) {
      if (this.ended !== undefined) {
        const error = this.ended;
        this.ended = null;
        this.pending.clear();
        if (error) {
          return {
            done: false,
            value: { errors: [new GraphQLError(error.message, { extensions: { code: error.code } })] },
          };
        }
        return { done: true, value: undefined };
      }
      const first = this.pending.entries().next();
      if (first.done) {
        await new Promise<void>((resolve) => (this.waiting = resolve));
        continue;
      }
      const [ticketId, event] = first.value;
      this.pending.delete(ticketId);
      const result = await this.resolve(event);
      if (result) return { done: false, value: result };
    }
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.end();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  private wake() {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}

export interface TicketFeed {
  subscribe(
    eventId: string,
    resolve: (event: TicketEnvelope) => Promise<ExecutionResult | null>,
  ): TicketSubscription;
  /** Ends every subscription with the error (a new supergraph, a shutdown). */
  endAll(error: LiveEnded | null): void;
  size(): number;
  stop(): Promise<void>;
}

export async function startTicketFeed(
  nc: NatsConnection,
  { logger, maxPending = 1_000 }: { logger: Logger; maxPending?: number },
): Promise<TicketFeed> {
  const byEvent = new Map<string, Set<TicketSubscription>>();
  let count = 0;
  /** Set once the feed has stopped for good: every subscription ends with it. */
  let unavailable: LiveEnded | undefined;
  const endAll = (error: LiveEnded | null) => {
    for (const set of [...byEvent.values()]) for (const subscription of [...set]) subscription.end(error);
  };
  const follower = await follow(
    nc,
    ["ticketing.ticket.created", "ticketing.ticket.updated"],
    { from: "new", logger },
    (event) => {
      for (const subscription of byEvent.get(event.data.eventId) ?? []) subscription.offer(event);
    },
  );
  void follower.ended.then((reason) => {
    if (!reason) return;
    unavailable = new LiveEnded("Live updates are unavailable; subscribe again later", "SERVICE_UNAVAILABLE");
    endAll(unavailable);
  });

  return {
    subscribe(eventId, resolve) {
      const subscription: TicketSubscription = new TicketSubscription(eventId, resolve, maxPending, () => {
        const set = byEvent.get(eventId);
        if (set?.delete(subscription)) count--;
        if (set?.size === 0) byEvent.delete(eventId);
      });
      if (unavailable) {
        subscription.end(unavailable);
        return subscription;
      }
      let set = byEvent.get(eventId);
      if (!set) byEvent.set(eventId, (set = new Set()));
      set.add(subscription);
      count++;
      return subscription;
    },
    endAll,
    size: () => count,
    stop: () => follower.stop(),
  };
}
