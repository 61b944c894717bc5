// Tickets follows orders. Orders holds the reservation lock; this keeps the ticket's status in
// step with it. Every handler is safe to run twice and in any order:
//  - a change to a ticket is an append with the order event's id as causationId, so a
//    redelivery finds it already applied;
//  - an order's end is applied to the ticket its reservation holds: one write. When the
//    reservation is not there (its order.created not applied yet), the end is recorded (keyed by
//    order id) and the ticket looked at again, while order.created looks for that record after
//    reserving: whichever of the two runs second sees the other's write, so an end that overtook
//    its creation still releases (or sells) the ticket.
import {
  startConsumer,
  type Envelope,
  type Handlers,
  type Publisher,
  type RunningConsumer,
} from "@ticketing/shared-events";
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import type { TicketLog } from "../data/logs.js";
import type { CatalogReads, OrderOutcome } from "../data/reads.js";
import { ticketUpdate } from "../domain/tickets.js";

export const ORDERS_CONSUMER = { durable: "tickets-orders", filterSubject: "ticketing.order.>" } as const;

export interface OrderHandlerDeps {
  tickets: TicketLog;
  reads: CatalogReads;
  publisher: Publisher;
  logger: Logger;
}

export function orderHandlers({ tickets, reads, publisher, logger }: OrderHandlerDeps): Handlers {
  /**
   * Releases or sells the ticket for an order that ended, if that order is what holds it; true
   * when the ticket shows the order's end (now or by an earlier delivery).
   */
  async function settle(
    ticketId: string,
    orderId: string,
    outcome: OrderOutcome["outcome"],
    causationId: string,
  ): Promise<boolean> {
    const result = await tickets.execute(
      ticketId,
      (ticket) => {
        if (!ticket) return null;
        const heldByOrder = ticket.status === "RESERVED" && ticket.orderId === orderId;
        if (outcome === "RELEASED") {
          return heldByOrder ? ticketUpdate(ticket, { status: "AVAILABLE", orderId: null }) : null;
        }
        // Paid: the order held the lock in orders, so the ticket is this order's even when its
        // order.created has not been applied here yet.
        return heldByOrder || ticket.status === "AVAILABLE"
          ? ticketUpdate(ticket, { status: "SOLD", orderId })
          : null;
      },
      { causationId, maxAttempts: 200 },
    );
    return result.outcome !== "unchanged";
  }

  async function ended(event: Envelope, orderId: string, ticketId: string, outcome: OrderOutcome["outcome"]) {
    if (await settle(ticketId, orderId, outcome, event.id)) return;
    await reads.recordOutcome({ _id: orderId, ticketId, outcome });
    const recorded = await reads.outcome(orderId);
    await settle(ticketId, orderId, recorded?.outcome ?? outcome, `${event.id}:recorded`);
  }

  return {
    "ticketing.order.created": async (event) => {
      const { id: orderId, ticketId } = event.data;
      if ((await reads.outcome(orderId)) !== null) return;
      const result = await tickets.execute(
        ticketId,
        (ticket) =>
          ticket?.status === "AVAILABLE" ? ticketUpdate(ticket, { status: "RESERVED", orderId }) : null,
        { causationId: event.id, maxAttempts: 200 },
      );
      const ticket = result.state;
      if (!ticket) {
        // Orders only knows tickets from our own events, so this is not one of ours.
        logger.warn({ orderId, ticketId }, "order.created for an unknown ticket ignored");
        return;
      }
      if (result.outcome === "unchanged" && ticket.orderId !== orderId) {
        await publisher.publish(
          "ticketing.ticket.reservation_rejected",
          { ticketId, orderId, reason: ticket.status === "WITHDRAWN" ? "WITHDRAWN" : "UNAVAILABLE" },
          // A fixed id: a redelivery's rejection is dropped as a duplicate by the stream.
          { aggregateId: ticketId, id: `reject:${orderId}`, meta: { causationId: event.id } },
        );
        return;
      }
      const outcome = await reads.outcome(orderId);
      if (outcome) await settle(ticketId, orderId, outcome.outcome, `${event.id}:settle`);
    },
    "ticketing.order.cancelled": (event) => ended(event, event.data.id, event.data.ticketId, "RELEASED"),
    "ticketing.order.expired": (event) => ended(event, event.data.id, event.data.ticketId, "RELEASED"),
    "ticketing.order.completed": (event) => ended(event, event.data.id, event.data.ticketId, "SOLD"),
  };
}

export function startOrderConsumer(
  nc: NatsConnection,
  deps: OrderHandlerDeps,
  durable: string = ORDERS_CONSUMER.durable,
): Promise<RunningConsumer> {
  return startConsumer({
    nc,
    durable,
    filterSubject: ORDERS_CONSUMER.filterSubject,
    handlers: orderHandlers(deps),
    logger: deps.logger,
  });
}
