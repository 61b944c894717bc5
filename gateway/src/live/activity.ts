// The ops dashboard's history: per-minute counts of the last hour, kept in memory. At start the
// gateway reads the last hour of the stream by time (so a restarted gateway counts what happened
// before it), then follows it; the stream sequence of the last event counted is the cursor a
// client passes to opsFeed(since:) to go on live without counting an event twice. Beside the
// counts, what the ops feed needs to describe events (which event a ticket is of, an order's
// total), and the backlog of the services' durable consumers, read every few seconds.
import type { NatsConnection } from "@nats-io/transport-node";
import {
  consumerBacklog,
  follow,
  lastSequence,
  subjects,
  type ConsumerBacklog,
  type Envelope,
  type Follower,
  type Money,
} from "@ticketing/shared-events";
import type { Logger } from "pino";
import type { OpsLookup } from "./ops-view.js";

export const HISTORY_MINUTES = 60;
const MINUTE_MS = 60_000;

/** The product's durable consumers (each service's NATS user declares the same names). */
export const DURABLE_CONSUMERS = [
  "tickets-orders",
  "tickets-passes",
  "orders-tickets",
  "orders-expiration",
  "orders-payments",
  "payments-orders",
  "expiration-orders",
  "passes-orders",
  "passes-tickets",
  "passes-users",
] as const;

export interface OpsMinute {
  /** The minute's start. */
  at: string;
  orders: number;
  sales: number;
  expiries: number;
  cancellations: number;
  refunds: number;
  /** The totals of the sales of the minute, one entry per currency, never added across them. */
  revenue: Money[];
}

export interface OpsActivity {
  minutes: OpsMinute[];
  cursor: string;
  consumers: (ConsumerBacklog & { behind: boolean })[];
  consumersReadAt: string | null;
  backlogThreshold: number;
}

interface Bucket {
  orders: number;
  sales: number;
  expiries: number;
  cancellations: number;
  refunds: number;
  revenue: Map<string, number>;
}

export interface ActivityOptions {
  logger: Logger;
  /** The durables whose backlog is watched. */
  consumers?: readonly string[];
  /** Events waiting (pending plus unacknowledged) at which a consumer counts as behind. */
  backlogThreshold?: number;
  /** Milliseconds between reads of the consumers' backlog. */
  backlogEveryMs?: number;
  /** For tests: the clock. */
  now?: () => number;
}

/** How many tickets and orders are remembered for descriptions; the oldest go first. */
const REMEMBERED = 50_000;

function remember<V>(map: Map<string, V>, key: string, value: V) {
  map.delete(key);
  map.set(key, value);
  if (map.size > REMEMBERED) map.delete(map.keys().next().value!);
}

/** Starts reading the last hour; `ready()` settles once it has counted up to the stream's end at start. */
export async function startActivity(nc: NatsConnection, options: ActivityOptions) {
  const now = options.now ?? Date.now;
  const watched = options.consumers ?? DURABLE_CONSUMERS;
  const threshold = options.backlogThreshold ?? 100;
  const logger = options.logger.child({ component: "ops-activity" });
  const buckets = new Map<number, Bucket>();
  const tickets = new Map<string, { eventId: string }>();
  const orders = new Map<string, { ticketId: string; total: Money }>();
  let position = 0;
  let waiters: { seq: number; resolve: () => void }[] = [];

  const bucketAt = (time: number) => {
    const minute = Math.floor(time / MINUTE_MS);
    let bucket = buckets.get(minute);
    if (!bucket) {
      bucket = { orders: 0, sales: 0, expiries: 0, cancellations: 0, refunds: 0, revenue: new Map() };
      buckets.set(minute, bucket);
      const oldest = Math.floor(now() / MINUTE_MS) - HISTORY_MINUTES;
      for (const key of buckets.keys()) if (key < oldest) buckets.delete(key);
    }
    return bucket;
  };

  function count(event: Envelope) {
    switch (event.subject) {
      case "ticketing.ticket.created":
      case "ticketing.ticket.updated":
        remember(tickets, event.data.id, { eventId: event.data.eventId });
        return;
      case "ticketing.order.created":
        remember(orders, event.data.id, { ticketId: event.data.ticketId, total: event.data.total });
        bucketAt(Date.parse(event.occurredAt)).orders += 1;
        return;
      case "ticketing.order.completed": {
        const bucket = bucketAt(Date.parse(event.occurredAt));
        bucket.sales += 1;
        const total = orders.get(event.data.id)?.total;
        if (total)
          bucket.revenue.set(total.currency, (bucket.revenue.get(total.currency) ?? 0) + total.amount);
        else
          logger.warn({ orderId: event.data.id }, "a sale of an order not seen; its revenue is not counted");
        return;
      }
      case "ticketing.payment.succeeded": {
        // An order older than the history still has its total: its payment carries it.
        const known = orders.get(event.data.orderId);
        if (!known) remember(orders, event.data.orderId, { ticketId: "", total: event.data.amount });
        return;
      }
      case "ticketing.order.expired":
        bucketAt(Date.parse(event.occurredAt)).expiries += 1;
        return;
      case "ticketing.order.cancelled":
        bucketAt(Date.parse(event.occurredAt)).cancellations += 1;
        return;
      case "ticketing.payment.refunded":
        bucketAt(Date.parse(event.occurredAt)).refunds += 1;
        return;
      case "ticketing.event.created":
      case "ticketing.ticket.reservation_rejected":
      case "ticketing.order.refund_required":
      case "ticketing.expiration.due":
      case "ticketing.payment.started":
      case "ticketing.payment.failed":
      case "ticketing.user.registered":
      case "ticketing.session.started":
      case "ticketing.session.revoked":
      case "ticketing.apikey.created":
      case "ticketing.apikey.revoked":
      case "ticketing.pass.issued":
      case "ticketing.pass.transfer_offered":
      case "ticketing.pass.transfer_cancelled":
      case "ticketing.pass.reissued":
      case "ticketing.pass.checked_in":
      case "ticketing.pass.listed":
      case "ticketing.pass.unlisted":
      case "ticketing.pass.listing_rejected":
      case "ticketing.event.resale_policy_set":
        return;
    }
  }

  const endAtStart = await lastSequence(nc);
  const follower: Follower = await follow(
    nc,
    subjects,
    { from: new Date(now() - HISTORY_MINUTES * MINUTE_MS), logger, prefetch: 512 },
    (event, seq) => {
      if (Date.parse(event.occurredAt) >= now() - HISTORY_MINUTES * MINUTE_MS) count(event);
      else if (event.subject === "ticketing.ticket.created" || event.subject === "ticketing.ticket.updated")
        count(event);
      position = seq;
      if (waiters.length > 0) {
        const due = waiters.filter((waiter) => waiter.seq <= seq);
        waiters = waiters.filter((waiter) => waiter.seq > seq);
        for (const waiter of due) waiter.resolve();
      }
    },
  );

  /** Settles once the events up to `seq` are counted, or after `timeoutMs` (false then). */
  function caughtUp(seq: number, timeoutMs: number): Promise<boolean> {
    if (Math.max(position, follower.position()) >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { seq, resolve: () => (clearTimeout(timer), resolve(true)) };
      const timer = setTimeout(() => {
        waiters = waiters.filter((other) => other !== waiter);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      waiters.push(waiter);
    });
  }

  let backlog: { consumers: ConsumerBacklog[]; readAt: string } | null = null;
  let reading: Promise<void> | undefined;
  const readBacklog = () =>
    (reading ??= consumerBacklog(nc, watched)
      .then((consumers) => {
        backlog = { consumers, readAt: new Date(now()).toISOString() };
      })
      .catch((err: unknown) => logger.warn({ err }, "cannot read the consumers' backlog"))
      .finally(() => (reading = undefined)));
  void readBacklog();
  const backlogTimer = setInterval(() => void readBacklog(), options.backlogEveryMs ?? 5_000);
  backlogTimer.unref();

  const lookup: OpsLookup = {
    ticket: (id) => tickets.get(id),
    order: (id) => {
      const order = orders.get(id);
      return order && order.ticketId !== "" ? order : undefined;
    },
  };

  return {
    lookup,
    caughtUp,
    /** Settles once the history up to the stream's end at start is counted (false after `timeoutMs`). */
    ready: (timeoutMs: number) => caughtUp(endAtStart, timeoutMs),
    /** The last `minutes` minutes, oldest first, the current one last. */
    snapshot(minutes: number): OpsActivity {
      const current = Math.floor(now() / MINUTE_MS);
      const list: OpsMinute[] = [];
      for (let minute = current - minutes + 1; minute <= current; minute++) {
        const bucket = buckets.get(minute);
        list.push({
          at: new Date(minute * MINUTE_MS).toISOString(),
          orders: bucket?.orders ?? 0,
          sales: bucket?.sales ?? 0,
          expiries: bucket?.expiries ?? 0,
          cancellations: bucket?.cancellations ?? 0,
          refunds: bucket?.refunds ?? 0,
          revenue: [...(bucket?.revenue ?? [])]
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([currency, amount]) => ({ amount, currency })),
        });
      }
      return {
        minutes: list,
        cursor: String(Math.max(position, follower.position())),
        consumers: (backlog?.consumers ?? []).map((consumer) => ({
          ...consumer,
          behind: consumer.pending + consumer.ackPending >= threshold,
        })),
        consumersReadAt: backlog?.readAt ?? null,
        backlogThreshold: threshold,
      };
    },
    /** Reads the consumers' backlog now (the snapshot has it from then on). */
    refreshBacklog: () => readBacklog(),
    async stop() {
      clearInterval(backlogTimer);
      for (const waiter of waiters) waiter.resolve();
      waiters = [];
      await follower.stop();
    },
  };
}

export type Activity = Awaited<ReturnType<typeof startActivity>>;
