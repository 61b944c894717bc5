import { randomUUID } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import mongoose, { type Connection } from "mongoose";
import pino from "pino";
import { infra, mongoDatabaseUrl } from "@ticketing/testkit";
export { eventually } from "@ticketing/testkit";
import {
  AggregateLog,
  createPublisher,
  ensureStreams,
  type AggregateLogOptions,
  type Envelope,
  type Publisher,
} from "../src/index.js";

export const silent = pino({ level: "silent" });

export interface Ticket {
  version: number;
  eventId: string;
  sellerId: string;
  title: string;
  section: string | null;
  price: { amount: number; currency: string };
  status: "AVAILABLE" | "RESERVED" | "SOLD" | "WITHDRAWN";
  orderId: string | null;
}

/** What the test tickets' log holds: both subjects carry the ticket's full state. */
export type TicketSubject = "ticketing.ticket.created" | "ticketing.ticket.updated";

export function evolveTicket(_state: Ticket | null, event: Envelope<TicketSubject>): Omit<Ticket, "version"> {
  const { id: _id, version: _version, ...rest } = event.data;
  return rest;
}

export function ticketPayload(id: string, version: number, overrides: Partial<Ticket> = {}) {
  return {
    id,
    eventId: "event-1",
    sellerId: "seller-1",
    title: "Front row",
    section: "A",
    price: { amount: 5_000, currency: "EUR" },
    status: "AVAILABLE" as const,
    orderId: null,
    ...overrides,
    version,
  };
}

export interface Harness {
  connection: Connection;
  nc: NatsConnection;
  publisher: Publisher;
  close(): Promise<void>;
}

export async function connectHarness(mongoUrl = mongoDatabaseUrl("events")): Promise<Harness> {
  const connection = await mongoose.createConnection(mongoUrl).asPromise();
  const nc = await connect({ servers: infra().natsUrl });
  await ensureStreams(nc);
  return {
    connection,
    nc,
    publisher: createPublisher(nc),
    async close() {
      await nc.close();
      await connection.close();
    },
  };
}

export function ticketLog(
  h: Pick<Harness, "connection" | "publisher">,
  extra: Partial<AggregateLogOptions<Ticket, TicketSubject>> = {},
) {
  return new AggregateLog<Ticket, TicketSubject>({
    connection: h.connection,
    logCollection: "ticket_events",
    projectionCollection: "tickets",
    evolve: evolveTicket,
    publisher: h.publisher,
    logger: silent,
    intervalMs: 200,
    ...extra,
  });
}

export const newId = () => randomUUID();
