// What a command sends to the database, counted from the driver's own command events: the commit
// alone on its path, the rest in batches behind it; and what a state held in memory may and may
// not decide.
import { MongoClient, type CommandStartedEvent } from "mongodb";
import { mongoDatabaseUrl } from "@ticketing/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOG_INDEXES, type LogDocument, type ProjectionDocument } from "../src/index.js";
import { connectHarness, newId, ticketLog, ticketPayload, type Harness, type Ticket } from "./support.js";

const WRITES = new Set(["insert", "update", "delete", "findAndModify"]);
const READS = new Set(["find", "aggregate", "count", "getMore"]);

describe("a command's database round trips", () => {
  let h: Harness;
  let client: MongoClient;
  const commands: CommandStartedEvent[] = [];
  beforeAll(async () => {
    h = await connectHarness();
    const url = mongoDatabaseUrl("events");
    client = await new MongoClient(url, { monitorCommands: true }).connect();
    for (const key of LOG_INDEXES) await client.db().collection("ticket_events").createIndex(key);
    client.on("commandStarted", (event) => commands.push(event));
  });
  afterAll(async () => {
    await client.close();
    await h.close();
  });

  /** The log on the counted client. */
  const countedLog = () =>
    ticketLog(
      { db: client.db(), publisher: h.publisher },
      {
        log: client.db().collection<LogDocument>("ticket_events"),
        projections: client.db().collection<ProjectionDocument<Ticket>>("tickets"),
      },
    );

  /**
   * The writes and reads on `run`'s path: what it sent up to its last insert (its commit). Nothing
   * after the commit is awaited by a command but the publish, which is not a database command;
   * the batches behind it are counted by the next test.
   */
  async function counted(run: () => Promise<unknown>) {
    const from = commands.length;
    await run();
    const sent = commands.slice(from).map((event) => event.commandName);
    const path = sent.slice(0, sent.lastIndexOf("insert") + 1);
    return {
      writes: path.filter((name) => WRITES.has(name)).length,
      reads: path.filter((name) => READS.has(name)).length,
    };
  }

  it("creates with one insert and no read, then changes a held aggregate with one insert", async () => {
    const log = countedLog();
    const id = newId();
    const created = await counted(() =>
      log.execute(id, () => ({ subject: "ticketing.ticket.created", data: ticketPayload(id, 1) }), {
        creates: true,
      }),
    );
    expect(created).toEqual({ writes: 1, reads: 0 });
    await log.flush();

    const changed = await counted(() =>
      log.execute(id, (state) => ({
        subject: "ticketing.ticket.updated",
        data: ticketPayload(id, state!.version + 1, { status: "RESERVED", orderId: "order-1" }),
      })),
    );
    expect(changed).toEqual({ writes: 1, reads: 0 });
    await log.flush();

    // Behind the path, the projection and the marks were written all the same.
    const projection = await client
      .db()
      .collection("tickets")
      .findOne({ _id: id as never });
    expect(projection).toMatchObject({ version: 2, status: "RESERVED" });
    const entries = await log.history(id);
    expect(entries.map(({ published, projected }) => ({ published, projected }))).toEqual([
      { published: true, projected: true },
      { published: true, projected: true },
    ]);
  });

  it("writes the projections and marks of concurrent commands in shared batches", async () => {
    const log = countedLog();
    const ids = Array.from({ length: 40 }, () => newId());
    const from = commands.length;
    await Promise.all(
      ids.map((id) =>
        log.execute(id, () => ({ subject: "ticketing.ticket.created", data: ticketPayload(id, 1) }), {
          creates: true,
        }),
      ),
    );
    await log.flush();
    const sent = commands.slice(from);
    const inserts = sent.filter((event) => event.commandName === "insert").length;
    const updates = sent.filter((event) => event.commandName === "update");
    const statements = (collection: string) =>
      updates
        .filter((event) => event.command.update === collection)
        .reduce((sum, event) => sum + (event.command.updates as unknown[]).length, 0);
    expect(inserts).toBe(ids.length);
    // A projection per command, and each entry's marks in one statement or two...
    expect(statements("tickets")).toBe(ids.length);
    expect(statements("ticket_events")).toBeGreaterThanOrEqual(ids.length);
    expect(statements("ticket_events")).toBeLessThanOrEqual(ids.length * 2);
    // ...in far fewer commands than statements.
    expect(updates.length).toBeLessThan(ids.length);
    const db = client.db();
    expect(await db.collection("tickets").countDocuments({ _id: { $in: ids as never[] } })).toBe(ids.length);
    const marked = await db
      .collection("ticket_events")
      .countDocuments({ aggregateId: { $in: ids }, published: true, projected: true });
    expect(marked).toBe(ids.length);
  });
});

describe("a state held in memory", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await connectHarness();
  });
  afterAll(() => h.close());

  const reserve = (id: string, orderId: string) => (state: Ticket | null) => {
    if (!state) throw new Error("missing ticket");
    if (state.status !== "AVAILABLE") throw new Error(`ticket is ${state.status}`);
    return {
      subject: "ticketing.ticket.updated" as const,
      data: ticketPayload(id, state.version + 1, { status: "RESERVED", orderId }),
    };
  };

  it("is behind another process's commit: the append collides, the command decides again", async () => {
    const first = ticketLog(h);
    const second = ticketLog(h);
    const id = newId();
    await first.execute(id, () => ({ subject: "ticketing.ticket.created", data: ticketPayload(id, 1) }), {
      creates: true,
    });
    // The second process reserves the ticket; the first still holds it AVAILABLE.
    await second.execute(id, (state) => ({
      subject: "ticketing.ticket.updated",
      data: ticketPayload(id, state!.version + 1, { status: "RESERVED", orderId: "order-a" }),
    }));
    // The first decides from its stale state, collides on version 2, reloads and is refused.
    await expect(first.execute(id, reserve(id, "order-b"))).rejects.toThrow("ticket is RESERVED");
    expect((await first.history(id)).map((entry) => entry.data.orderId)).toEqual([null, "order-a"]);
    await Promise.all([first.flush(), second.flush()]);
  });

  it("never refuses on its own: a refusal is decided again from the database", async () => {
    const first = ticketLog(h);
    const second = ticketLog(h);
    const id = newId();
    await first.execute(id, () => ({ subject: "ticketing.ticket.created", data: ticketPayload(id, 1) }), {
      creates: true,
    });
    await first.execute(id, reserve(id, "order-a"));
    // Another process releases the ticket: the first's held state still says RESERVED.
    await second.execute(id, (state) => ({
      subject: "ticketing.ticket.updated",
      data: ticketPayload(id, state!.version + 1, { status: "AVAILABLE", orderId: null }),
    }));
    const result = await first.execute(id, reserve(id, "order-b"));
    expect(result).toMatchObject({ outcome: "appended", state: { version: 4, orderId: "order-b" } });
    await Promise.all([first.flush(), second.flush()]);
  });
});
