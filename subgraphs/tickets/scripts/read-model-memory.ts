// What the catalog read model costs per ticket: the heap before and after loading a generated
// catalog (100,000 tickets over 2,000 events by default, as the benchmark seeds), each document
// decoded from BSON as the driver hands it over, so that every string is its own copy.
//
//   node --expose-gc --import tsx scripts/read-model-memory.ts [tickets] [events]
import { randomUUID } from "node:crypto";
import { mongo } from "mongoose";
import type { ProjectionDocument } from "@ticketing/shared-events";
import { catalogMemory } from "../src/data/catalog-memory.js";
import type { EventState } from "../src/domain/catalog.js";
import type { TicketState } from "../src/domain/tickets.js";

const TICKETS = Number(process.argv[2] ?? 100_000);
const EVENTS = Number(process.argv[3] ?? 2_000);
const CITIES = ["Berlin", "London", "Paris", "Amsterdam", "New York", "Lisbon", "Vienna", "Oslo"];
const STATUSES = ["AVAILABLE", "AVAILABLE", "AVAILABLE", "RESERVED", "SOLD", "WITHDRAWN"] as const;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

/** As the driver decodes a stored document. */
const decoded = <T extends object>(doc: T): T => mongo.BSON.deserialize(mongo.BSON.serialize(doc)) as T;

const eventIds = Array.from({ length: EVENTS }, () => randomUUID());
const sellerIds = Array.from({ length: Math.ceil(TICKETS / 20) }, () => randomUUID());
const base = Date.UTC(2031, 0, 1);

function* events(): Iterable<ProjectionDocument<EventState>> {
  for (const [index, id] of eventIds.entries()) {
    const city = CITIES[index % CITIES.length] ?? "Berlin";
    yield decoded({
      _id: id,
      id,
      name: `Event number ${index}`,
      venue: `Venue ${index % 300}`,
      city,
      startsAt: new Date(base + index * 3_600_000).toISOString(),
      category: "concert",
      cityKey: city.toLowerCase(),
      categoryKey: "concert",
      version: 1,
    });
  }
}

function* tickets(): Iterable<ProjectionDocument<TicketState>> {
  for (let index = 0; index < TICKETS; index++) {
    const id = randomUUID();
    const status = STATUSES[index % STATUSES.length] ?? "AVAILABLE";
    yield decoded({
      _id: id,
      id,
      eventId: eventIds[index % EVENTS] ?? "",
      sellerId: sellerIds[index % sellerIds.length] ?? "",
      title: "Two seats, row 12",
      section: index % 4 === 0 ? null : `Block ${index % 30}`,
      price: { amount: 2_000 + (index % 400) * 25, currency: "EUR" },
      status,
      orderId: status === "RESERVED" || status === "SOLD" ? randomUUID() : null,
      version: 1 + (index % 3),
      listedAt: new Date(base - TICKETS * 1_000 + index * 1_000).toISOString(),
    });
  }
}

const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

const unused = () => Promise.reject(new Error("not used here"));
const memory = catalogMemory({
  events: { load: events, reload: unused },
  tickets: { load: tickets, reload: unused },
});
const before = heap();
await memory.events.load();
const withEvents = heap();
await memory.tickets.load();
const after = heap();

const perTicket = (after - withEvents) / TICKETS;
console.log(
  JSON.stringify({
    tickets: memory.tickets.size,
    events: memory.events.size,
    eventsBytes: withEvents - before,
    ticketsBytes: after - withEvents,
    bytesPerTicket: Math.round(perTicket),
    ticketsIn2GiB: Math.floor((2 * 1024 ** 3) / perTicket),
  }),
);
