// The ops feed: every event on the stream, from a cursor (its stream sequence) on, then live. A
// follower per subscriber starts right after the cursor, so nothing is missed or repeated across a
// client's reconnect, and resumes after the last event it handed over across a NATS outage or
// restart. It reads the stream only as fast as the client takes events. Each event goes out in
// words and with a payload cleared of personal data (ops-view.ts), described once the activity
// counter has seen it, so that what earlier events said (an order's total) is known.
import type { NatsConnection } from "@nats-io/transport-node";
import { follow, subjects, type Envelope } from "@ticketing/shared-events";
import type { Logger } from "pino";
import type { Activity } from "./activity.js";
import { LiveEnded } from "./ended.js";
import { describe, type OpsView } from "./ops-view.js";

export interface OpsEvent extends OpsView {
  cursor: string;
  subject: string;
  occurredAt: string;
}

/** How long an event waits for the activity counter before it is described with what is known. */
const DESCRIBE_WAIT_MS = 2_000;

export interface OpsEvents {
  /**
   * The next event, once there is one; null after `stop()`. Rejects with a LiveEnded when the feed
   * cannot go on (its NATS connection closed).
   */
  next(): Promise<OpsEvent | null>;
  stop(): void;
}

/** Starts reading after `since` (or from now); rejects when the stream cannot be reached. */
export async function opsEvents(
  nc: NatsConnection,
  since: number | null,
  logger: Logger,
  activity: Pick<Activity, "lookup" | "caughtUp">,
): Promise<OpsEvents> {
  // One event at a time passes from the follower to the reader: the follower's handler settles
  // when the reader has taken it, and only then does the follower read on.
  let offered: { event: OpsEvent; taken: () => void } | undefined;
  let wakeReader: (() => void) | undefined;
  /** undefined while running; null once stopped; the reason once failed. */
  let ended: LiveEnded | null | undefined;
  const wake = () => {
    const wakeup = wakeReader;
    wakeReader = undefined;
    wakeup?.();
  };

  const toOps = (event: Envelope, seq: number): OpsEvent => ({
    cursor: String(seq),
    subject: event.subject,
    occurredAt: event.occurredAt,
    ...describe(event, activity.lookup),
  });
  const follower = await follow(
    nc,
    subjects,
    { from: since === null ? "new" : { after: since }, logger, prefetch: 256 },
    async (event, seq) => {
      await activity.caughtUp(seq, DESCRIBE_WAIT_MS);
      await new Promise<void>((taken) => {
        if (ended !== undefined) return taken();
        offered = { event: toOps(event, seq), taken };
        wake();
      });
    },
  );
  void follower.ended.then((reason) => {
    if (!reason || ended !== undefined) return;
    ended = new LiveEnded(
      "The ops feed is unavailable; subscribe again from your last cursor",
      "SERVICE_UNAVAILABLE",
    );
    wake();
  });

  return {
    async next() {
      for (;;) {
        if (offered) {
          const { event, taken } = offered;
          offered = undefined;
          taken();
          return event;
        }
        if (ended === null) return null;
        if (ended) {
          const reason = ended;
          ended = null;
          throw reason;
        }
        await new Promise<void>((resolve) => (wakeReader = resolve));
      }
    },
    stop() {
      if (ended === null) return;
      ended = null;
      offered?.taken();
      offered = undefined;
      wake();
      void follower.stop();
    },
  };
}
