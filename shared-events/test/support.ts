import { randomUUID } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { MongoClient, type Db } from "mongodb";
import pino from "pino";
import { infra, mongoDatabaseUrl } from "@ticketing/testkit";
export { eventually } from "@ticketing/testkit";
import {
  AggregateLog,
  createPublisher,
  ensureStreams,
  LOG_INDEXES,
  type AggregateLogOptions,
  type Envelope,
  type LogDocument,
  type ProjectionDocument,
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
  /** The test's database, through the driver: the collections an owner's models would hand over. */
  db: Db;
  nc: NatsConnection;
  publisher: Publisher;
  close(): Promise<void>;
}

/** The database of `mongoUrl`'s path, with the test tickets' log indexed as its owner's model would. */
export async function openDatabase(mongoUrl: string): Promise<{ db: Db; client: MongoClient }> {
  const client = await new MongoClient(mongoUrl).connect();
  const db = client.db();
  // One index per command, as mongoose's createIndexes() sends them (see LOG_INDEXES).
  for (const key of LOG_INDEXES) await db.collection("ticket_events").createIndex(key);
  return { db, client };
}

export async function connectHarness(mongoUrl = mongoDatabaseUrl("events")): Promise<Harness> {
  const { db, client } = await openDatabase(mongoUrl);
  const nc = await connect({ servers: infra().natsUrl });
  await ensureStreams(nc);
  return {
    db,
    nc,
    publisher: createPublisher(nc),
    async close() {
      await nc.close();
      await client.close();
    },
  };
}

export function ticketLog(
  h: Pick<Harness, "db" | "publisher">,
  extra: Partial<AggregateLogOptions<Ticket, TicketSubject>> = {},
) {
  return new AggregateLog<Ticket, TicketSubject>({
    log: h.db.collection<LogDocument>("ticket_events"),
    projections: h.db.collection<ProjectionDocument<Ticket>>("tickets"),
    evolve: evolveTicket,
    publisher: h.publisher,
    logger: silent,
    intervalMs: 200,
    ...extra,
  });
}

export const newId = () => randomUUID();
