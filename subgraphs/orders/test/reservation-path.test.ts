// What a reservation costs and what still decides it (docs/adr/0004-two-writes-per-reservation.md):
// the driver's own command events counted on createOrder's path, buyers who lose answered from
// memory, the lock's unique insert deciding between two processes, and a ticket orderable as
// soon as its listing is on the stream.
import type { mongo } from "mongoose";
import { randomUUID } from "node:crypto";
import type { TestStream } from "@ticketing/shared-events/testing";
import { uniqueName } from "@ticketing/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  codeOf,
  CREATE_ORDER,
  FakeAuth,
  listTicket,
  openStream,
  startOrders,
  type OrderNode,
  type RunningOrders,
  type TicketData,
} from "./support.js";

const WRITES = new Set(["insert", "update", "delete", "findAndModify"]);
const READS = new Set(["find", "aggregate", "count", "getMore"]);
// No sweep in the middle of a count.
const QUIET = { ORDER_HOLD_SECONDS: "600", ORDER_SWEEP_SECONDS: "3600" };

let auth: FakeAuth;
let stream: TestStream;
const commands: mongo.CommandStartedEvent[] = [];
const database = uniqueName("orders");
let orders: RunningOrders;
let rival: RunningOrders;

beforeAll(async () => {
  auth = await FakeAuth.start();
  stream = await openStream();
  orders = await startOrders(auth, QUIET, { database, onMongoCommand: (event) => commands.push(event) });
  // A second process on the same database: its buyers race the first's.
  rival = await startOrders(auth, QUIET, { database });
});

afterAll(async () => {
  await rival?.close();
  await orders?.close();
  await stream?.close();
  await auth?.close();
});

const order = (service: RunningOrders, ticketId: string, token = auth.token()) =>
  service.graphql<{ createOrder: OrderNode }>(CREATE_ORDER, { variables: { ticketId }, token });

/**
 * What `run` sent to the database up to its last insert (the commit): its path. It starts once
 * the process has sent nothing for a moment, so that what an earlier step left to do in the
 * background (a ticket written to the replica collection, a batch) is not counted.
 */
async function path(run: () => Promise<unknown>) {
  for (let seen = -1; seen !== commands.length;) {
    seen = commands.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const from = commands.length;
  await run();
  const sent = commands.slice(from);
  const last = sent.map((event) => event.commandName).lastIndexOf("insert");
  const onPath = sent.slice(0, last + 1);
  return {
    writes: onPath
      .filter((event) => WRITES.has(event.commandName))
      .map((event) => String(event.command[event.commandName])),
    reads: onPath.filter((event) => READS.has(event.commandName)).length,
  };
}

describe("createOrder's path", () => {
  it("writes the lock and the order's first entry, and reads nothing", async () => {
    const ticket = await listTicket(stream, orders, auth);
    let result: Awaited<ReturnType<typeof order>> | undefined;
    const sent = await path(async () => {
      result = await order(orders, ticket.id);
    });
    expect(result?.errors).toBeUndefined();
    expect(sent).toEqual({ writes: ["reservation_locks", "order_events"], reads: 0 });
  });

  it("answers the buyers who lose to a claim of the same process without a round trip", async () => {
    const ticket = await listTicket(stream, orders, auth);
    const from = commands.length;
    const results = await Promise.all(Array.from({ length: 50 }, () => order(orders, ticket.id)));
    expect(results.filter((result) => !result.errors)).toHaveLength(1);
    expect(results.filter((result) => codeOf(result) === "CONFLICT")).toHaveLength(49);
    const lockInserts = commands
      .slice(from)
      .filter((event) => event.commandName === "insert" && event.command.insert === "reservation_locks");
    expect(lockInserts).toHaveLength(1);
  });

  it("NOT_FOUND costs no round trip to the database", async () => {
    const from = commands.length;
    expect(codeOf(await order(orders, randomUUID()))).toBe("NOT_FOUND");
    expect(commands.slice(from)).toEqual([]);
  });
});

describe("between two processes", () => {
  it("the lock's unique insert lets exactly one buyer have each ticket, 10 times over", async () => {
    for (let round = 0; round < 10; round++) {
      const ticket = await listTicket(stream, orders, auth);
      await listedIn(rival, ticket);
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, index) => order(index % 2 === 0 ? orders : rival, ticket.id)),
      );
      expect(results.filter((result) => !result.errors)).toHaveLength(1);
      expect(results.filter((result) => codeOf(result) === "CONFLICT")).toHaveLength(39);
    }
  }, 120_000);
});

describe("a new listing", () => {
  const listing = (title: string): TicketData => ({
    id: randomUUID(),
    eventId: "event-1",
    sellerId: randomUUID(),
    title,
    section: null,
    price: { amount: 2_500, currency: "EUR" },
    status: "AVAILABLE",
    orderId: null,
    version: 1,
  });

  it("is orderable as soon as it is on the stream, however far behind orders' follower is", async () => {
    for (let round = 0; round < 5; round++) {
      // A backlog for the follower: a thousand other listings, then the one bought.
      await Promise.all(
        Array.from({ length: 1_000 }, () => stream.publish("ticketing.ticket.created", listing("Backlog"))),
      );
      const ticket = listing("Just listed");
      // Acknowledged, as tickets awaits before listTicket answers; bought at once.
      await stream.publish("ticketing.ticket.created", ticket);
      const result = await order(orders, ticket.id);
      expect(result.errors).toBeUndefined();
    }
  }, 60_000);
});

/** Waits until the other process knows the ticket too. */
async function listedIn(service: RunningOrders, ticket: TicketData) {
  const seller = auth.token(ticket.sellerId);
  const probe = await order(service, ticket.id, seller);
  expect(codeOf(probe)).toBe("BAD_USER_INPUT");
}
