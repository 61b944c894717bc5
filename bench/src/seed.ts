// Fills the tickets database with a catalog of N tickets over M events in seconds, for benchmarks
// that need a marketplace-sized catalog. Listing 100,000 tickets through the graph would take an
// hour (each listing is several round trips to FerretDB), and the aggregate log has no bulk
// append, so this writes what `listTicket` and `createEvent` leave behind, in bulk: for each
// aggregate its first log entry and its projection document. Entries are written as already
// projected and published, so neither the projection sweep nor the outbox relay touches them,
// and nothing is sent to JetStream: the tickets service loads them from the database at start.
// Seed before tickets starts (or restart it): a running replica does not see rows written under
// it. Orders never hears of seeded tickets, so they cannot be reserved; list through the graph
// for that.
//
//   npm run seed -w @ticketing/bench -- [tickets = 100000] [events = 2000] [--reset]
//   MONGO_URL defaults to the FerretDB of `npm start` (mongodb://127.0.0.1:27027/).
import { randomUUID } from "node:crypto";
import { pathToFileURL } from "node:url";
import { validatePayload, type LogEntry, type Payload, type Subject } from "@ticketing/shared-events";
import { DEMO_SELLERS } from "@ticketing/shared-runtime";
import { MongoClient, type Db } from "mongodb";

// Tickets' database (its service's DATABASE) and the collections of its aggregate logs and
// projections (its domain/ names them). Named here rather than imported: importing the tickets
// package loads the whole service, and the seeder only writes documents.
const DATABASE = "ticketing-tickets";
const EVENT_LOG = "event_events";
const EVENT_PROJECTIONS = "events";
const TICKET_LOG = "ticket_events";
const TICKET_PROJECTIONS = "tickets";

/** The projection tickets keeps of a ticket: its full state plus when it was listed. */
type TicketProjection = Omit<Payload<"ticketing.ticket.created">, "version"> & {
  _id: string;
  listedAt: string;
  version: number;
  _causes: string[];
};
type EventProjection = Payload<"ticketing.event.created"> & {
  _id: string;
  cityKey: string;
  categoryKey: string | null;
  version: number;
  _causes: string[];
};

export interface SeedOptions {
  mongoUrl: string;
  tickets: number;
  events: number;
  /** Sellers, round-robin; they must have accounts in auth for `seller { displayName }` to resolve. */
  sellerIds?: readonly string[];
  /** Drops the tickets database first; otherwise a catalog that is not empty is refused. */
  reset?: boolean;
  /** Documents per insertMany. */
  batch?: number;
  progress?: (message: string) => void;
}

export interface SeededCatalog {
  /** Seeded events in order; event i holds tickets `floor(i·N/M)` … `floor((i+1)·N/M) − 1`. */
  eventIds: string[];
  tickets: number;
  seconds: number;
}

const CITIES = ["Berlin", "London", "Paris", "Amsterdam", "New York", "Lyon", "Madrid", "Vienna"];
const CATEGORIES = ["concert", "sport", "theatre", "comedy"];
const SECTIONS = ["Floor", "Balcony", "Block A", "Block B", null];
const HOUR_MS = 3_600_000;

export const seedEventId = (index: number) => `seed-event-${index + 1}`;
const seedTicketId = (index: number) => `seed-ticket-${index + 1}`;

/** Entry of an aggregate's first event, as `AggregateLog.append` stores it once projected and published. */
function firstEntry<S extends Subject>(
  subject: S,
  aggregateId: string,
  data: Payload<S>,
  occurredAt: Date,
): LogEntry<S> {
  return {
    _id: `${aggregateId}:1`,
    eventId: randomUUID(),
    aggregateId,
    version: 1,
    subject,
    data: validatePayload(subject, data),
    occurredAt,
    causationId: null,
    requestId: null,
    published: true,
    projected: true,
  };
}

export async function seedCatalog(options: SeedOptions): Promise<SeededCatalog> {
  const { tickets, events } = options;
  if (!Number.isInteger(tickets) || !Number.isInteger(events) || tickets < 0 || events < 1) {
    throw new Error("tickets and events must be whole numbers, with at least one event");
  }
  const sellerIds = options.sellerIds ?? DEMO_SELLERS.map((seller) => seller.id);
  const batch = options.batch ?? 2_000;
  const client = await MongoClient.connect(options.mongoUrl);
  try {
    const db = client.db(DATABASE);
    if (options.reset) await db.dropDatabase();
    else if (await hasCatalog(db)) {
      throw new Error(`${DATABASE} already holds a catalog; seed with --reset to replace it`);
    }
    const started = performance.now();
    // Listing times one millisecond apart, all before now: seeded tickets keep a defined order
    // (newest first) and anything listed later through the graph comes before them.
    const listedFrom = Date.now() - tickets - 1_000;
    const firstEvening =
      Math.floor(Date.now() / (24 * HOUR_MS)) * 24 * HOUR_MS + 7 * 24 * HOUR_MS + 19 * HOUR_MS;

    const eventIds = Array.from({ length: events }, (_, i) => seedEventId(i));
    await insertInBatches(db, batch, events, EVENT_LOG, EVENT_PROJECTIONS, (i) => {
      const city = CITIES[i % CITIES.length]!;
      const category = CATEGORIES[i % CATEGORIES.length]!;
      const data: Payload<"ticketing.event.created"> = {
        id: eventIds[i]!,
        name: `Seeded ${category} night ${i + 1}`,
        venue: `Hall ${(i % 40) + 1}`,
        city,
        // One event every six hours from a week ahead.
        startsAt: new Date(firstEvening + i * 6 * HOUR_MS).toISOString(),
        category,
      };
      const projection: EventProjection = {
        ...data,
        _id: data.id,
        cityKey: city.toLowerCase(),
        categoryKey: category.toLowerCase(),
        version: 1,
        _causes: [],
      };
      return [firstEntry("ticketing.event.created", data.id, data, new Date(listedFrom)), projection];
    });
    options.progress?.(`${events} events`);

    let reported = 0;
    await insertInBatches(db, batch, tickets, TICKET_LOG, TICKET_PROJECTIONS, (i) => {
      const event = Math.floor((i * events) / tickets);
      const listedAt = new Date(listedFrom + i);
      const section = SECTIONS[i % SECTIONS.length]!;
      const data: Payload<"ticketing.ticket.created"> = {
        id: seedTicketId(i),
        eventId: eventIds[event]!,
        sellerId: sellerIds[i % sellerIds.length]!,
        title: `${(i % 4) + 1} × ${section ?? "Standing"}`,
        section,
        price: { amount: 2_000 + (i % 97) * 150, currency: "EUR" },
        status: "AVAILABLE",
        orderId: null,
        version: 1,
      };
      const { version: _version, ...state } = data;
      const projection: TicketProjection = {
        ...state,
        _id: data.id,
        listedAt: listedAt.toISOString(),
        version: 1,
        _causes: [],
      };
      if (i + 1 - reported >= 20_000) {
        reported = i + 1;
        options.progress?.(`${reported} tickets`);
      }
      return [firstEntry("ticketing.ticket.created", data.id, data, listedAt), projection];
    });
    return { eventIds, tickets, seconds: (performance.now() - started) / 1000 };
  } finally {
    await client.close();
  }
}

async function hasCatalog(db: Db): Promise<boolean> {
  for (const name of [EVENT_PROJECTIONS, TICKET_PROJECTIONS]) {
    if (await db.collection(name).findOne({}, { projection: { _id: 1 } })) return true;
  }
  return false;
}

/**
 * Writes `count` aggregates, each as its log entry and its projection, `batch` at a time. Two
 * inserts are in flight at once (the log's and the projections'), which keeps FerretDB busy
 * without piling up documents in memory.
 */
async function insertInBatches(
  db: Db,
  batch: number,
  count: number,
  logName: string,
  projectionName: string,
  make: (index: number) => [{ _id: string }, { _id: string }],
): Promise<void> {
  const log = db.collection<{ _id: string }>(logName);
  const projections = db.collection<{ _id: string }>(projectionName);
  for (let start = 0; start < count; start += batch) {
    const entries: { _id: string }[] = [];
    const docs: { _id: string }[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      const [entry, doc] = make(i);
      entries.push(entry);
      docs.push(doc);
    }
    // Unordered: the server may apply a batch in any order (every _id is distinct anyway).
    await Promise.all([
      log.insertMany(entries, { ordered: false }),
      projections.insertMany(docs, { ordered: false }),
    ]);
  }
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const args = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
  const reset = process.argv.includes("--reset");
  const tickets = Number(args[0] ?? 100_000);
  const events = Number(args[1] ?? 2_000);
  const mongoUrl = process.env.MONGO_URL || "mongodb://127.0.0.1:27027/";
  try {
    const seeded = await seedCatalog({
      mongoUrl,
      tickets,
      events,
      reset,
      progress: (message) => console.log(message),
    });
    console.log(
      `seeded ${seeded.tickets} tickets over ${seeded.eventIds.length} events into ${DATABASE} in ${seeded.seconds.toFixed(1)} s; restart tickets to serve them`,
    );
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
