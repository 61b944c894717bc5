import { AggregateLog, type Publisher } from "@ticketing/shared-events";
import type { Connection } from "mongoose";
import type { Logger } from "pino";
import { EVENT_LOG, evolveEvent, type EventState } from "../events/catalog.js";
import { evolveTicket, TICKET_LOG, type TicketState } from "../events/tickets.js";

export type EventLog = AggregateLog<EventState>;
export type TicketLog = AggregateLog<TicketState>;

export interface Logs {
  events: EventLog;
  tickets: TicketLog;
}

/** The aggregate logs (and outboxes) of catalog events and tickets. */
export function createLogs(connection: Connection, publisher: Publisher, logger: Logger): Logs {
  return {
    events: new AggregateLog<EventState>({
      connection,
      ...EVENT_LOG,
      evolve: evolveEvent,
      publisher,
      logger: logger.child({ log: EVENT_LOG.logCollection }),
    }),
    tickets: new AggregateLog<TicketState>({
      connection,
      ...TICKET_LOG,
      evolve: evolveTicket,
      publisher,
      logger: logger.child({ log: TICKET_LOG.logCollection }),
    }),
  };
}
