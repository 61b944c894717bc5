// Tickets follows passes: the replica verified listings are checked against, and a listing whose
// pass had moved on when passes heard of it is withdrawn. Both are safe to run twice: the replica
// is version-ordered, the withdrawal an append with the event's id as causationId.
import type { NatsConnection } from "@nats-io/transport-node";
import { startConsumer, type RunningConsumer } from "@ticketing/shared-events";
import type { Logger } from "pino";
import type { TicketLog } from "../data/logs.js";
import type { PassReplicas } from "../data/passes.js";
import { ticketUpdate } from "../domain/tickets.js";

export const PASSES_CONSUMER = { durable: "tickets-passes", filterSubject: "ticketing.pass.>" } as const;

export function startPassConsumer(
  nc: NatsConnection,
  { passes, tickets, logger }: { passes: PassReplicas; tickets: TicketLog; logger: Logger },
  durable: string = PASSES_CONSUMER.durable,
): Promise<RunningConsumer> {
  return startConsumer({
    nc,
    durable,
    filterSubject: PASSES_CONSUMER.filterSubject,
    logger,
    backoffMs: [50, 100, 250, 500, 1_000, 2_000],
    maxDeliver: 30,
    handlers: {
      "ticketing.pass.issued": (event) => passes.apply(event),
      "ticketing.pass.transfer_offered": (event) => passes.apply(event),
      "ticketing.pass.transfer_cancelled": (event) => passes.apply(event),
      "ticketing.pass.reissued": (event) => passes.apply(event),
      "ticketing.pass.checked_in": (event) => passes.apply(event),
      "ticketing.pass.listed": (event) => passes.apply(event),
      "ticketing.pass.unlisted": (event) => passes.apply(event),
      "ticketing.pass.listing_rejected": async (event) => {
        await tickets.execute(
          event.data.ticketId,
          (ticket) => (ticket?.status === "AVAILABLE" ? ticketUpdate(ticket, { status: "WITHDRAWN" }) : null),
          { causationId: event.id, maxAttempts: 200 },
        );
      },
    },
  });
}
