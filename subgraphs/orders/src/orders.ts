// The orders domain: the reservation lock, and every order transition as an append of the
// order's next version, so payment, cancellation and expiry racing on one order end it one way.
import { randomUUID } from "node:crypto";
import type { AggregateLog } from "@ticketing/shared-events";
import { type Decision, type Payload } from "@ticketing/shared-events";
import {
  Admission,
  badUserInput,
  conflict,
  decodeCursor,
  forbidden,
  notFound,
  pageSize,
  toPage,
  type Identity,
  type Page,
} from "@ticketing/shared-runtime";
import type { Logger } from "pino";
import type { TicketReplica } from "./data/models.js";
import type { OrderStore } from "./data/store.js";
import type { TicketsOnSale } from "./data/tickets-on-sale.js";
import { isOpen, type OrderState, type OrderSubject } from "./domain/orders.js";

export type OrderLog = AggregateLog<OrderState, OrderSubject>;

/**
 * A lock older than this with no open order behind it is a leftover of a crash: released. An
 * order's commit follows its lock within milliseconds; one that still came later than this (a
 * database stalled for seconds) could find the ticket claimed again, and tickets, which reserves
 * a ticket for one order only, would reject it: the order is cancelled, never sold twice.
 */
const ORPHAN_LOCK_MS = 10_000;
/** An `expiration.due` this early is a clock apart, not a hold run out: it waits. */
const EXPIRY_TOLERANCE_MS = 1_000;

export interface Orders {
  create(buyer: Identity, ticketId: string, requestId?: string): Promise<OrderState>;
  cancel(buyer: Identity, orderId: string, requestId?: string): Promise<OrderState>;
  /** Expires the order if it is still awaiting payment and due; "early" when not due yet. */
  expire(orderId: string, causationId?: string, now?: Date): Promise<"expired" | "unchanged" | "early">;
  /** A payment Stripe confirmed: completes an open order, else asks for a refund. */
  paid(payment: Payload<"ticketing.payment.succeeded">, causationId: string): Promise<void>;
  /** Tickets could not reserve the ticket (withdrawn meanwhile): the order is cancelled. */
  rejected(orderId: string, causationId: string): Promise<void>;
  /** The order, for its buyer or OPS; null when there is none, FORBIDDEN for anyone else. */
  order(viewer: Identity, orderId: string): Promise<OrderState | null>;
  /** Orders newest first: the buyer's own, or every buyer's (`all`, for OPS). */
  list(
    viewer: Identity,
    first?: number | null,
    after?: string | null,
    all?: boolean,
  ): Promise<Page<OrderState>>;
  /** Expires overdue orders and releases the locks of ended ones; what `start` runs on a timer. */
  sweep(now?: Date): Promise<{ expired: number; released: number }>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

const canSee = (viewer: Identity, order: OrderState) =>
  order.buyerId === viewer.userId || viewer.roles.includes("OPS");

/**
 * How many reservations write to the database at once, and the longest one may wait for its turn
 * before it is refused with RATE_LIMITED (createOrder's budget is 250 ms in all).
 */
const RESERVATIONS = { concurrency: 16, budgetMs: 150, name: "reservations" };
const TAKEN = "Someone else reserved this ticket first";

export function createOrders({
  log,
  store,
  tickets,
  holdSeconds,
  logger,
}: {
  log: OrderLog;
  store: OrderStore;
  tickets: TicketsOnSale;
  holdSeconds: number;
  logger: Logger;
}): Orders {
  const admission = new Admission(RESERVATIONS);
  /**
   * Tickets a reservation of this process is claiming or has claimed, with the ticket version it
   * saw: while the ticket is still at that version (tickets has not reserved it yet), another
   * buyer here is told CONFLICT without a round trip. The lock's unique insert still decides.
   */
  const claiming = new Map<string, number>();

  /** Runs a transition; an order that is over (now or already) gives its ticket back. */
  async function transition(
    orderId: string,
    decide: (order: OrderState | null) => Decision<OrderSubject>,
    options = {},
  ) {
    const result = await log.execute(orderId, decide, { maxAttempts: 100, ...options });
    if (result.state && !isOpen(result.state)) {
      // Off the path: a release lost to a crash is redone by the sweep (ORPHAN_LOCK_MS).
      store.release(orderId, result.state.ticketId).catch((error: unknown) => {
        logger.warn({ err: error, orderId }, "lock release deferred to the sweep");
      });
    }
    return result;
  }

  async function create(buyer: Identity, ticketId: string, requestId?: string): Promise<OrderState> {
    if (typeof ticketId !== "string" || ticketId.length === 0 || ticketId.length > 200) {
      throw badUserInput("ticketId is not a ticket id", "ticketId");
    }
    const ticket = await tickets.find(ticketId);
    if (!ticket) throw notFound("No ticket has this id");
    if (ticket.sellerId === buyer.userId) throw badUserInput("You cannot buy your own ticket", "ticketId");
    if (ticket.status === "SOLD") throw conflict("This ticket is sold");
    if (ticket.status === "WITHDRAWN") throw conflict("This ticket is no longer for sale");
    const claimedVersion = claiming.get(ticketId);
    if (ticket.status !== "AVAILABLE" || claimedVersion === ticket.version) throw conflict(TAKEN);
    // A claim of an older version is over: the ticket has moved on since (reserved, released).
    if (claimedVersion !== undefined) claiming.delete(ticketId);
    claiming.set(ticketId, ticket.version);
    try {
      return await admission.run(() => reserve(buyer, ticket, requestId));
    } catch (error) {
      if (claiming.get(ticketId) === ticket.version) claiming.delete(ticketId);
      throw error;
    }
  }

  /** The two writes of a reservation: the lock, then the order's first entry (the commit). */
  async function reserve(buyer: Identity, ticket: TicketReplica, requestId?: string): Promise<OrderState> {
    const ticketId = ticket._id;
    const orderId = randomUUID();
    if (!(await store.claim(orderId, ticketId))) throw conflict(TAKEN);
    const now = new Date();
    try {
      const result = await log.execute(
        orderId,
        (current) =>
          current
            ? null
            : {
                subject: "ticketing.order.created",
                data: {
                  id: orderId,
                  ticketId,
                  buyerId: buyer.userId,
                  sellerId: ticket.sellerId,
                  total: ticket.price,
                  createdAt: now.toISOString(),
                  expiresAt: new Date(now.getTime() + holdSeconds * 1_000).toISOString(),
                },
              },
        { requestId, creates: true },
      );
      if (!result.state) throw new Error(`order ${orderId} is missing after its creation`);
      return result.state;
    } catch (error) {
      // Nothing was committed: the ticket is free again (the sweep covers a crash right here).
      await store.release(orderId, ticketId).catch(() => undefined);
      throw error;
    }
  }

  let timer: NodeJS.Timeout | undefined;
  let sweeping: Promise<unknown> | undefined;

  const orders: Orders = {
    create,

    async cancel(buyer, orderId, requestId) {
      const result = await transition(
        orderId,
        (order) => {
          if (!order) throw notFound("No order has this id");
          if (order.buyerId !== buyer.userId) throw forbidden("Only the buyer can cancel this order");
          if (!isOpen(order)) {
            throw conflict(
              `The order is ${order.status.toLowerCase().replace("_", " ")} and cannot be cancelled`,
            );
          }
          return {
            subject: "ticketing.order.cancelled",
            data: { id: order.id, ticketId: order.ticketId, reason: "BUYER_CANCELLED" },
          };
        },
        { requestId },
      );
      return result.state!;
    },

    async expire(orderId, causationId, now = new Date()) {
      let early = false;
      const result = await transition(
        orderId,
        (order) => {
          if (!order || !isOpen(order)) return null;
          if (Date.parse(order.expiresAt) - EXPIRY_TOLERANCE_MS > now.getTime()) {
            early = true;
            return null;
          }
          return { subject: "ticketing.order.expired", data: { id: order.id, ticketId: order.ticketId } };
        },
        { causationId },
      );
      if (early) return "early";
      return result.outcome === "appended" ? "expired" : "unchanged";
    },

    async paid(payment, causationId) {
      const result = await transition(
        payment.orderId,
        (order) => {
          if (!order) return null;
          if (order.paymentId === payment.id || order.refundedPayments.includes(payment.id)) return null;
          const matches =
            payment.amount.amount === order.total.amount && payment.amount.currency === order.total.currency;
          if (isOpen(order) && matches) {
            return {
              subject: "ticketing.order.completed",
              data: { id: order.id, ticketId: order.ticketId, paymentId: payment.id },
            };
          }
          return {
            subject: "ticketing.order.refund_required",
            data: { id: order.id, ticketId: order.ticketId, paymentId: payment.id },
          };
        },
        { causationId },
      );
      if (!result.state) logger.warn({ orderId: payment.orderId }, "payment for an unknown order ignored");
    },

    async rejected(orderId, causationId) {
      await transition(
        orderId,
        (order) =>
          order && isOpen(order)
            ? {
                subject: "ticketing.order.cancelled",
                data: { id: order.id, ticketId: order.ticketId, reason: "TICKET_UNAVAILABLE" },
              }
            : null,
        { causationId },
      );
    },

    async order(viewer, orderId) {
      const order = await log.read(orderId);
      if (!order) return null;
      if (!canSee(viewer, order)) throw forbidden("Only the buyer can see this order");
      return order;
    },

    async list(viewer, first, after, all = false) {
      if (all && !viewer.roles.includes("OPS")) throw forbidden();
      const size = pageSize(first);
      const rows = await store.ordersOf(all ? null : viewer.userId, decodeCursor(after), size + 1);
      return toPage(rows, size, (order) => [order.createdAt, order.id]);
    },

    async sweep(now = new Date()) {
      let expired = 0;
      for (const order of await store.overdue(now, 500)) {
        if ((await orders.expire(order.id, undefined, now)) === "expired") expired++;
      }
      let released = 0;
      for (const lock of await store.heldLocks(new Date(now.getTime() - ORPHAN_LOCK_MS))) {
        const order = await log.load(lock.orderId);
        if (order && isOpen(order)) continue;
        await store.release(lock.orderId, lock.ticketId);
        released++;
      }
      return { expired, released };
    },

    start(intervalMs) {
      const run = () => {
        sweeping ??= orders
          .sweep()
          .then(({ expired, released }) => {
            if (expired + released > 0) logger.info({ expired, released }, "order sweep");
          })
          .catch((error: unknown) => logger.warn({ err: error }, "order sweep failed; will retry"))
          .finally(() => {
            sweeping = undefined;
          });
      };
      run();
      timer = setInterval(run, intervalMs);
      timer.unref();
    },

    async stop() {
      clearInterval(timer);
      timer = undefined;
      await sweeping;
    },
  };
  return orders;
}
