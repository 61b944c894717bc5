// An on-sale as people live it: a few tickets, many signed-in buyers pressing "buy" at the same
// instant, every loser looking at the event's page again and trying a ticket still shown as
// available. And what the TICKETING stream must show afterwards: no ticket held by two orders.
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { DLQ_STREAM, STREAM } from "@ticketing/shared-events";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CREATE_ORDER,
  MY_ORDERS,
  codeOf,
  dataOf,
  describeOutcome,
  retrying,
  type Fan,
  type Outcome,
} from "./graph.js";
import type { StreamEvent } from "./stream.js";

export const EVENT_TICKETS = `query EventTickets($id: ID!) {
  event(id: $id) { tickets(first: 100) { edges { node { id status } } } }
}`;
export const TICKET_STATUS = `query TicketStatus($id: ID!) { ticket(id: $id) { id status } }`;
export const ORDER_STATUS = `query OrderStatus($id: ID!) { order(id: $id) { id status ticket { id } } }`;
export const ALL_ORDERS = `query AllOrders($first: Int, $after: String) {
  orders(first: $first, after: $after) {
    edges { node { id status createdAt ticket { id } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

type Placed = { id: string; status: string };
type Page = { event: { tickets: { edges: { node: { id: string; status: string } }[] } } | null };

/** One `createOrder` and what it was answered. */
export interface Attempt {
  ticketId: string;
  /** The order, when the answer was one. */
  orderId?: string;
  /** The error code of the answer (CONFLICT, …); undefined for a success or no answer. */
  code?: string;
  /** The HTTP status; undefined when no answer came (refused, reset, timed out). */
  httpStatus?: number;
  /** The answer, for a failure's message. */
  answer: string;
  /** When the request was sent (epoch ms). */
  sentAt: number;
}

export interface BuyerResult {
  buyer: number;
  /** The order this buyer holds; `recovered` when its answer was lost and myOrders showed it. */
  won?: { orderId: string; ticketId: string; recovered: boolean };
  attempts: Attempt[];
  /** won; every ticket shown as available was tried; or the deadline passed first. */
  end: "won" | "sold out" | "gave up";
}

const httpStatusOf = (outcome: Outcome<unknown>) =>
  "response" in outcome ? outcome.response.status : undefined;

/**
 * One on-sale of one event. Each `buy` is one person: they press buy on the ticket they picked;
 * on CONFLICT they reload the event's page and try a ticket it shows AVAILABLE that they have not
 * tried yet; a request that failed (no answer, or an error other than CONFLICT) they repeat after
 * a pause, until `deadline`. `outstanding` counts the createOrder requests sent and not answered.
 */
export class OnSale {
  outstanding = 0;
  answered = 0;
  private readonly answerListeners: (() => void)[] = [];

  constructor(
    readonly eventId: string,
    readonly deadline: number,
    readonly pauseMs = 250,
  ) {}

  /** Resolves at the first createOrder answer of this on-sale. */
  firstAnswer(): Promise<void> {
    return new Promise((resolve) => this.answerListeners.push(resolve));
  }

  async buy(fan: Fan, buyer: number, firstPick: string): Promise<BuyerResult> {
    const attempts: Attempt[] = [];
    const tried = new Set<string>();
    const failedOn = new Set<string>();
    let ticketId: string | undefined = firstPick;
    while (ticketId !== undefined) {
      const attempt = await this.order(fan, ticketId);
      attempts.push(attempt);
      if (attempt.orderId)
        return { buyer, attempts, end: "won", won: { orderId: attempt.orderId, ticketId, recovered: false } };
      if (attempt.code !== "CONFLICT") {
        failedOn.add(ticketId);
        if (Date.now() >= this.deadline) return { buyer, attempts, end: "gave up" };
        await sleep(this.pauseMs);
        continue;
      }
      // CONFLICT after a request whose answer was lost: that request may have been the winner.
      if (failedOn.has(ticketId)) {
        const own = await this.ownOrder(fan, ticketId);
        if (own === "unknown") return { buyer, attempts, end: "gave up" };
        if (own.orderId) {
          return { buyer, attempts, end: "won", won: { orderId: own.orderId, ticketId, recovered: true } };
        }
      }
      tried.add(ticketId);
      const shown = await this.available(fan);
      if (shown === undefined) return { buyer, attempts, end: "gave up" };
      ticketId = shown.find((id) => !tried.has(id));
    }
    return { buyer, attempts, end: "sold out" };
  }

  private async order(fan: Fan, ticketId: string): Promise<Attempt> {
    this.outstanding++;
    const sentAt = Date.now();
    const outcome = await fan.attempt<{ createOrder: Placed }>(CREATE_ORDER, { ticketId });
    this.outstanding--;
    this.answered++;
    for (const listener of this.answerListeners.splice(0)) listener();
    const placed = dataOf(outcome)?.createOrder;
    return {
      ticketId,
      ...(placed && { orderId: placed.id }),
      ...(codeOf(outcome) !== undefined && { code: codeOf(outcome) }),
      ...(httpStatusOf(outcome) !== undefined && { httpStatus: httpStatusOf(outcome) }),
      answer: describeOutcome(outcome),
      sentAt,
    };
  }

  /** The tickets the event's page shows AVAILABLE; undefined when no page came before the deadline. */
  private async available(fan: Fan): Promise<string[] | undefined> {
    const outcome = await retrying(
      () => fan.attempt<Page>(EVENT_TICKETS, { id: this.eventId }),
      (answer) => dataOf(answer)?.event !== undefined,
      this.deadline,
      this.pauseMs,
    );
    const event = dataOf(outcome)?.event;
    if (!event) return undefined;
    return event.tickets.edges.filter(({ node }) => node.status === "AVAILABLE").map(({ node }) => node.id);
  }

  /** The buyer's own open order for the ticket (null: none), or "unknown" when myOrders never answered. */
  private async ownOrder(fan: Fan, ticketId: string): Promise<{ orderId: string | null } | "unknown"> {
    type Mine = { myOrders: { edges: { node: { id: string; status: string; ticket: { id: string } } }[] } };
    const outcome = await retrying(
      () => fan.attempt<Mine>(MY_ORDERS, { first: 100 }),
      (answer) => dataOf(answer) !== undefined,
      this.deadline,
      this.pauseMs,
    );
    const mine = dataOf(outcome);
    if (!mine) return "unknown";
    const own = mine.myOrders.edges.find(
      ({ node }) => node.ticket.id === ticketId && node.status === "AWAITING_PAYMENT",
    );
    return { orderId: own?.node.id ?? null };
  }
}

/**
 * Every buyer presses buy at the same instant, buyer i on `picks[i % picks.length]`; resolves
 * when every buyer has won, found nothing left to try, or given up.
 */
export function race(sale: OnSale, fans: readonly Fan[], picks: readonly string[]): Promise<BuyerResult[]> {
  return Promise.all(fans.map((fan, i) => sale.buy(fan, i, picks[i % picks.length]!)));
}

// ---------------------------------------------------------------- what the stream says

/** An order's status as its events on the stream tell it. */
const ENDINGS: Record<string, string> = {
  "ticketing.order.completed": "COMPLETE",
  "ticketing.order.cancelled": "CANCELLED",
  "ticketing.order.expired": "EXPIRED",
};

export interface StreamOrder {
  id: string;
  ticketId: string;
  status: string;
  seq: number;
}

/** Every order created on the stream (of `tickets`, when given) and its status by its later events. */
export function ordersOnStream(
  events: readonly StreamEvent[],
  tickets?: ReadonlySet<string>,
): Map<string, StreamOrder> {
  const orders = new Map<string, StreamOrder>();
  for (const event of events) {
    if (event.subject === "ticketing.order.created") {
      const ticketId = String(event.data.ticketId);
      if (tickets && !tickets.has(ticketId)) continue;
      const id = String(event.data.id);
      // A second order.created of one order is a duplicate that `duplicates()` reports.
      if (!orders.has(id)) orders.set(id, { id, ticketId, status: "AWAITING_PAYMENT", seq: event.seq });
    }
    const ending = ENDINGS[event.subject];
    const order = ending && orders.get(String(event.data.id));
    if (ending && order && order.status === "AWAITING_PAYMENT") order.status = ending;
  }
  return orders;
}

/**
 * Tickets held twice, read from the stream: two orders created for one ticket and neither cancelled
 * nor expired (a completed order holds its ticket for good), or a ticket's state going RESERVED
 * (or SOLD) for an order while another order still held it, with no release in between.
 */
export function heldTwice(events: readonly StreamEvent[], tickets?: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const byTicket = new Map<string, StreamOrder[]>();
  for (const order of ordersOnStream(events, tickets).values()) {
    byTicket.set(order.ticketId, [...(byTicket.get(order.ticketId) ?? []), order]);
  }
  for (const [ticketId, orders] of byTicket) {
    const holding = orders.filter(({ status }) => status === "AWAITING_PAYMENT" || status === "COMPLETE");
    if (holding.length > 1) {
      problems.push(
        `ticket ${ticketId}: ${holding.length} orders neither cancelled nor expired (${holding.map((o) => `${o.id} ${o.status}`).join(", ")})`,
      );
    }
  }
  const states = events
    .filter(
      (event) => event.subject === "ticketing.ticket.created" || event.subject === "ticketing.ticket.updated",
    )
    .filter((event) => !tickets || tickets.has(String(event.data.id)))
    .sort((a, b) => Number(a.data.version) - Number(b.data.version) || a.seq - b.seq);
  const holder = new Map<string, string | null>();
  for (const state of states) {
    const ticketId = String(state.data.id);
    const status = String(state.data.status);
    const orderId = typeof state.data.orderId === "string" ? state.data.orderId : null;
    const before = holder.get(ticketId) ?? null;
    if (status === "RESERVED" || status === "SOLD") {
      if (before !== null && before !== orderId) {
        problems.push(
          `ticket ${ticketId}: ${status} for order ${orderId} at version ${String(state.data.version)} while order ${before} held it`,
        );
      }
      holder.set(ticketId, orderId);
    } else {
      holder.set(ticketId, null);
    }
  }
  return problems;
}

/** Each ticket's last state on the stream: status and the order holding it. */
export function lastTicketStates(
  events: readonly StreamEvent[],
  tickets: ReadonlySet<string>,
): Map<string, { status: string; orderId: string | null; version: number }> {
  const last = new Map<string, { status: string; orderId: string | null; version: number }>();
  for (const event of events) {
    if (event.subject !== "ticketing.ticket.created" && event.subject !== "ticketing.ticket.updated")
      continue;
    const id = String(event.data.id);
    if (!tickets.has(id)) continue;
    const version = Number(event.data.version);
    if ((last.get(id)?.version ?? 0) >= version) continue;
    last.set(id, {
      status: String(event.data.status),
      orderId: typeof event.data.orderId === "string" ? event.data.orderId : null,
      version,
    });
  }
  return last;
}

/**
 * The stream's events from sequence `fromSeq` on, read through an ordered consumer (not one
 * request per message), and how many messages were dead-lettered: a scenario reads only what it
 * wrote, which keeps a poll short on a stream grown by earlier scenarios.
 */
export async function readStreamFrom(
  natsUrl: string,
  fromSeq: number,
): Promise<{ lastSeq: number; events: StreamEvent[]; deadLetters: number }> {
  const nc = await connect({ servers: natsUrl, maxReconnectAttempts: 0, timeout: 5_000 });
  try {
    const jsm = await jetstreamManager(nc);
    const { state } = await jsm.streams.info(STREAM);
    const deadLetters = (await jsm.streams.info(DLQ_STREAM)).state.messages;
    const events: StreamEvent[] = [];
    const start = Math.max(fromSeq, state.first_seq);
    if (start <= state.last_seq) {
      const consumer = await jetstream(nc).consumers.get(STREAM, {
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: start,
      });
      const messages = await consumer.consume({ max_messages: 1_000 });
      for await (const message of messages) {
        const envelope = message.json<Omit<StreamEvent, "seq">>();
        events.push({
          ...envelope,
          seq: message.seq,
          storedAt: message.time.getTime(),
          subject: message.subject,
        });
        if (message.seq >= state.last_seq) break;
      }
    }
    return { lastSeq: state.last_seq, events, deadLetters };
  } finally {
    await nc.close();
  }
}
