import { AggregateLog, type Publisher } from "@ticketing/shared-events";
import type { Logger } from "pino";
import { EVENT_LOG, evolveEvent, type EventState, type EventSubject } from "../domain/catalog.js";
import { evolveTicket, TICKET_LOG, type TicketState, type TicketSubject } from "../domain/tickets.js";
import { driverCollection } from "@ticketing/shared-runtime";
import type { TicketsModels } from "./models.js";

export type EventLog = AggregateLog<EventState, EventSubject>;
export type TicketLog = AggregateLog<TicketState, TicketSubject>;

export interface Logs {
  events: EventLog;
  tickets: TicketLog;
}

/** The aggregate logs (and outboxes) of catalog events and tickets. */
export function createLogs(models: TicketsModels, publisher: Publisher, logger: Logger): Logs {
  return {
    events: new AggregateLog<EventState, EventSubject>({
      log: driverCollection(models.eventEvents),
      projections: driverCollection(models.events),
      evolve: evolveEvent,
      publisher,
      logger: logger.child({ log: EVENT_LOG.logCollection }),
    }),
    tickets: new AggregateLog<TicketState, TicketSubject>({
      log: driverCollection(models.ticketEvents),
      projections: driverCollection(models.tickets),
      evolve: evolveTicket,
      publisher,
      logger: logger.child({ log: TICKET_LOG.logCollection }),
    }),
  };
}
