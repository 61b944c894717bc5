// The fan-out over real WebSockets on a local server: what each client receives, byte for byte.
import { Agent, createServer, request, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ExecutionResult } from "graphql";
import { GraphQLError } from "graphql";
import { metrics } from "@ticketing/shared-runtime";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { LiveEnded } from "./ended.js";
import { LiveSocket, TicketFanOut, type ResolveChanges, type TicketEnvelope } from "./fan-out.js";

let server: WebSocketServer;
let url = "";
const accepted: { socket: WebSocket; request: IncomingMessage }[] = [];
const clients: WebSocket[] = [];

beforeAll(async () => {
  server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  server.on("connection", (socket, request) => accepted.push({ socket, request }));
  await new Promise((resolve) => server.once("listening", resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => {
  for (const client of clients.splice(0)) client.terminate();
  accepted.length = 0;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

interface Message {
  id: string;
  type: string;
  payload: { data?: { changed: { id: string; version: number; blob?: string } }; errors?: unknown[] };
}

/** A client and the server's side of its connection; what it receives, parsed, in order. */
async function connect() {
  const client = new WebSocket(url);
  clients.push(client);
  const messages: Message[] = [];
  const frames: Buffer[] = [];
  client.on("message", (raw: Buffer, binary: boolean) => {
    expect(binary).toBe(false);
    frames.push(raw);
    messages.push(JSON.parse(raw.toString()) as Message);
  });
  const before = accepted.length;
  await new Promise((resolve) => client.once("open", resolve));
  while (accepted.length === before) await new Promise((resolve) => setImmediate(resolve));
  const { socket: serverSide, request } = accepted.at(-1)!;
  return {
    client,
    serverSide,
    stream: request.socket,
    socket: new LiveSocket(serverSide, request.socket),
    messages,
    frames,
  };
}

/** Counts the writes a TCP socket hands to the kernel: messages written corked go in one. */
function countWrites(stream: Socket): () => number {
  type Write = (...args: unknown[]) => void;
  const counted = stream as unknown as { _write: Write; _writev: Write };
  let writes = 0;
  for (const method of ["_write", "_writev"] as const) {
    const original = counted[method].bind(counted);
    counted[method] = (...args) => {
      writes++;
      original(...args);
    };
  }
  return () => writes;
}

const until = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
};

function change(ticketId: string, version: number, eventId = "event-1"): TicketEnvelope {
  return {
    id: `${ticketId}:${version}`,
    occurredAt: new Date().toISOString(),
    aggregateId: ticketId,
    version,
    subject: "ticketing.ticket.updated",
    data: {
      id: ticketId,
      eventId,
      sellerId: "seller-1",
      title: "Seat",
      section: null,
      price: { amount: 1_000, currency: "EUR" },
      status: "AVAILABLE",
      orderId: null,
      version,
    },
  };
}

/** Subscribes on `socket` to event-1's changes: subscription id "1", one audience for all. */
function subscribeAll(fanOut: TicketFanOut, socket: LiveSocket, resolve: ResolveChanges) {
  return fanOut.subscribe({
    eventId: "event-1",
    audienceKey: "all",
    batchSize: 50,
    id: "1",
    socket,
    resolve,
  });
}

/**
 * What the graph would answer: each ticket at its event's version, with `blob` to make it big.
 * `calls` holds the changes of each operation.
 */
function answering(blob = "") {
  const calls: TicketEnvelope[][] = [];
  const resolve = (events: readonly TicketEnvelope[]): Promise<ExecutionResult[]> => {
    calls.push([...events]);
    return Promise.resolve(
      events.map((event) => ({ data: { changed: { id: event.data.id, version: event.version, blob } } })),
    );
  };
  return { resolve, calls };
}

describe("the fan-out of ticket changes", () => {
  it("resolves and serializes a change once for an audience, and sends each subscription graphql-ws's own next message", async () => {
    const fanOut = new TicketFanOut(1_000);
    const graph = answering();
    const connections = await Promise.all(Array.from({ length: 40 }, () => connect()));
    for (const [n, connection] of connections.entries()) {
      fanOut.subscribe({
        eventId: "event-1",
        audienceKey: "anonymous, same document",
        batchSize: 50,
        id: `sub-${n}`,
        socket: connection.socket,
        resolve: graph.resolve,
      });
    }
    // A second subscription on the first connection, and one for another event.
    fanOut.subscribe({
      eventId: "event-1",
      audienceKey: "anonymous, same document",
      batchSize: 50,
      id: "second",
      socket: connections[0]!.socket,
      resolve: graph.resolve,
    });
    fanOut.subscribe({
      eventId: "event-2",
      audienceKey: "anonymous, same document",
      batchSize: 50,
      id: "elsewhere",
      socket: connections[1]!.socket,
      resolve: graph.resolve,
    });

    const stringify = vi.spyOn(JSON, "stringify");
    fanOut.offer(change("t1", 3));
    await new Promise((resolve) => setImmediate(resolve));
    const serializations = stringify.mock.calls.length;
    stringify.mockRestore();

    await until(
      () => connections.every((c) => c.messages.length >= 1) && connections[0]!.messages.length === 2,
    );
    expect(graph.calls).toHaveLength(1);
    expect(serializations).toBe(1);
    for (const [n, connection] of connections.entries()) {
      const expected = {
        id: `sub-${n}`,
        type: "next",
        payload: { data: { changed: { id: "t1", version: 3, blob: "" } } },
      };
      expect(connection.messages).toContainEqual(expected);
      expect(connection.messages.every((message) => message.id !== "elsewhere")).toBe(true);
    }
    expect(connections[0]!.messages.map((message) => message.id).sort()).toEqual(["second", "sub-0"]);
    // The same payload bytes behind each id.
    const payloadOf = (frame: Buffer) => frame.subarray(frame.indexOf('"payload":')).toString();
    expect(new Set(connections.map((c) => payloadOf(c.frames[0]!))).size).toBe(1);
  });

  it("reports how long after a change occurred it was resolved and written to every socket", async () => {
    const delivered = async () => {
      const { values } = await metrics.liveDelivery.get();
      const of = (stage: string, name: string) =>
        values.find((v) => v.labels.stage === stage && v.metricName === name)?.value ?? 0;
      return {
        resolved: of("resolved", "ticketing_live_delivery_seconds_count"),
        written: of("written", "ticketing_live_delivery_seconds_count"),
        writtenSeconds: of("written", "ticketing_live_delivery_seconds_sum"),
      };
    };
    const fanOut = new TicketFanOut(1_000);
    const connections = await Promise.all(Array.from({ length: 3 }, () => connect()));
    let resolvedAt = 0;
    // t1 is visible; t2 is not (nothing to send, nothing delivered).
    const resolve: ResolveChanges = (events) => {
      resolvedAt = Date.now();
      return Promise.resolve(
        events.map((event) =>
          event.data.id === "t1" ? { data: { changed: { id: "t1", version: event.version } } } : null,
        ),
      );
    };
    for (const connection of connections) subscribeAll(fanOut, connection.socket, resolve);
    const before = await delivered();
    const occurredAt = Date.now() - 2_000;
    const earlier = change("t1", 1);
    earlier.occurredAt = new Date(occurredAt).toISOString();
    fanOut.offer(earlier);
    fanOut.offer(change("t2", 1));
    await until(() => connections.every((c) => c.messages.length === 1));
    const writtenBy = Date.now();

    const after = await delivered();
    // One audience, one visible change: counted once per stage, however many sockets.
    expect(after.resolved - before.resolved).toBe(1);
    expect(after.written - before.written).toBe(1);
    // Milliseconds on both sides; the histogram's sum is a float, so a microsecond's leeway.
    const seconds = after.writtenSeconds - before.writtenSeconds;
    expect(seconds).toBeGreaterThanOrEqual((resolvedAt - occurredAt) / 1000 - 1e-6);
    expect(seconds).toBeLessThanOrEqual((writtenBy - occurredAt) / 1000 + 1e-6);
  });

  it("gives each audience its own answer, errors serialized as graphql-ws does", async () => {
    const fanOut = new TicketFanOut(1_000);
    const a = await connect();
    const b = await connect();
    fanOut.subscribe({
      eventId: "event-1",
      audienceKey: "one",
      batchSize: 50,
      id: "1",
      socket: a.socket,
      resolve: (events) =>
        Promise.resolve(
          events.map(() => ({
            data: null,
            errors: [new GraphQLError("Not yours", { extensions: { code: "FORBIDDEN" } })],
          })),
        ),
    });
    fanOut.subscribe({
      eventId: "event-1",
      audienceKey: "two",
      batchSize: 50,
      id: "1",
      socket: b.socket,
      resolve: answering().resolve,
    });
    fanOut.offer(change("t1", 1));
    await until(() => a.messages.length === 1 && b.messages.length === 1);
    expect(a.messages[0]).toEqual({
      id: "1",
      type: "next",
      payload: { data: null, errors: [{ message: "Not yours", extensions: { code: "FORBIDDEN" } }] },
    });
    expect(b.messages[0]?.payload.data?.changed).toEqual({ id: "t1", version: 1, blob: "" });
  });

  it("resolves a burst in operations of at most the audience's batch size, two under way at once", async () => {
    const fanOut = new TicketFanOut(1_000);
    const graph = answering();
    const answers: (() => void)[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    const held = async (events: readonly TicketEnvelope[]) => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise<void>((resolve) => answers.push(resolve));
      inFlight--;
      return graph.resolve(events);
    };
    const client = await connect();
    fanOut.subscribe({
      eventId: "event-1",
      audienceKey: "all",
      batchSize: 3,
      id: "1",
      socket: client.socket,
      resolve: held,
    });
    // Eleven tickets change in one turn of the event loop.
    for (let n = 0; n < 11; n++) fanOut.offer(change(`t${n}`, 1));
    while (graph.calls.flat().length < 11) {
      await until(() => answers.length > 0);
      answers.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => client.messages.length === 11);
    expect(graph.calls.map((events) => events.length)).toEqual([3, 3, 3, 2]);
    expect(mostInFlight).toBe(2);
    expect(new Set(client.messages.map((message) => message.payload.data?.changed.id)).size).toBe(11);
  });

  it("delivers every change to every subscription, in order, when the clients keep up", async () => {
    const fanOut = new TicketFanOut(1_000);
    const graph = answering();
    const connections = await Promise.all(Array.from({ length: 200 }, () => connect()));
    for (const connection of connections) {
      subscribeAll(fanOut, connection.socket, graph.resolve);
    }
    for (let version = 1; version <= 20; version++) {
      fanOut.offer(change(`t${version % 3}`, version));
      await until(() => connections.every((c) => c.messages.length === version));
    }
    for (const connection of connections) {
      expect(connection.messages.map((message) => message.payload.data?.changed.version)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    }
  });

  it("writes to each socket once per pass, with every change that came while the pass before ran", async () => {
    const fanOut = new TicketFanOut(1_000);
    const graph = answering();
    const connections = await Promise.all(Array.from({ length: 20 }, () => connect()));
    const writes = connections.map((connection) => countWrites(connection.stream));
    for (const connection of connections) {
      subscribeAll(fanOut, connection.socket, graph.resolve);
    }
    // Nine tickets change at once: read in one operation, they go out in one pass.
    for (let n = 1; n <= 9; n++) fanOut.offer(change(`t${n}`, 1));
    await until(() => connections.every((c) => c.messages.length === 9));
    // Then three more, while the first of them is being read: those that came meanwhile go out
    // together in the pass after it.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slowGraph = async (events: readonly TicketEnvelope[]) => {
      await held;
      return graph.resolve(events);
    };
    for (const connection of connections) {
      fanOut.subscribe({
        eventId: "event-2",
        audienceKey: "all",
        batchSize: 50,
        id: "2",
        socket: connection.socket,
        resolve: slowGraph,
      });
    }
    fanOut.offer(change("u1", 1, "event-2"));
    await new Promise((resolve) => setImmediate(resolve));
    fanOut.offer(change("u2", 1, "event-2"));
    fanOut.offer(change("u3", 1, "event-2"));
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await until(() => connections.every((c) => c.messages.length === 12));
    for (const [n, connection] of connections.entries()) {
      expect(connection.messages.map((message) => message.payload.data?.changed.id)).toEqual([
        ...Array.from({ length: 9 }, (_, i) => `t${i + 1}`),
        "u1",
        "u2",
        "u3",
      ]);
      expect(writes[n]!()).toBe(3);
    }
    // Nine changes in one operation; u1 alone, u2 and u3 together while it was under way.
    expect(graph.calls.map((events) => events.map((event) => event.data.id))).toEqual([
      Array.from({ length: 9 }, (_, i) => `t${i + 1}`),
      ["u1"],
      ["u2", "u3"],
    ]);
  });

  it("leaves the rest of the process at least as long as a pass took before the next pass", async () => {
    const PASS_MS = 60;
    const fanOut = new TicketFanOut(1_000);
    const graph = answering();
    const connection = await connect();
    subscribeAll(fanOut, connection.socket, graph.resolve);
    // The first pass is a slow one; a change comes while it runs, resolved right after it.
    let firstPassEnded = 0;
    const flush = connection.socket.flush.bind(connection.socket);
    let passes = 0;
    connection.socket.flush = () => {
      flush();
      if (++passes > 1) return;
      const until = Date.now() + PASS_MS;
      while (Date.now() < until);
      fanOut.offer(change("t2", 1));
      firstPassEnded = Date.now();
    };
    let secondAt = 0;
    connection.client.on("message", () => {
      if (connection.messages.length === 2) secondAt = Date.now();
    });
    fanOut.offer(change("t1", 1));
    await until(() => secondAt > 0);
    expect(connection.messages.map((m) => m.payload.data?.changed.id)).toEqual(["t1", "t2"]);
    // Without the rest, the second pass would follow the first within a turn of the loop.
    expect(secondAt - firstPassEnded).toBeGreaterThanOrEqual(PASS_MS - 5);
  });

  it("answers an HTTP request while a pass over the sockets is under way", async () => {
    const fanOut = new TicketFanOut(1_000, 10);
    const connections = await Promise.all(Array.from({ length: 40 }, () => connect()));
    const writes = connections.map((connection) => countWrites(connection.stream));
    const written = () => writes.filter((count) => count() > 0).length;
    let writtenWhenAnswered = -1;
    const http = createServer((_request, response) => {
      writtenWhenAnswered = written();
      response.end("ok");
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ sent: Promise<void>; answered: Promise<void> }>((resolve) => {
        const { port } = http.address() as AddressInfo;
        let answered!: () => void;
        const outgoing = request({ host: "127.0.0.1", port, agent }, (response) => {
          response.resume();
          response.on("end", () => answered());
        });
        resolve({
          sent: new Promise((sent) => outgoing.end(sent)),
          answered: new Promise((done) => (answered = done)),
        });
      });
    // The connection is open before the pass, so the request is all that is left to read.
    await (
      await get()
    ).answered;

    let pending: Awaited<ReturnType<typeof get>> | undefined;
    const graph = answering();
    for (const connection of connections) {
      fanOut.subscribe({
        eventId: "event-1",
        audienceKey: "all",
        batchSize: 50,
        id: "1",
        socket: connection.socket,
        // The request is in the server's receive buffer when the pass starts.
        resolve: async (events) => {
          pending = await get();
          await pending.sent;
          return graph.resolve(events);
        },
      });
    }
    fanOut.offer(change("t1", 1));
    await until(() => connections.every((c) => c.messages.length === 1));
    await pending!.answered;
    expect(writtenWhenAnswered).toBeGreaterThan(0);
    expect(writtenWhenAnswered).toBeLessThan(connections.length);
    agent.destroy();
    await new Promise((resolve) => http.close(resolve));
  });

  it("lets the others go on while a client does not read, then gives it the newest change of each ticket", async () => {
    const fanOut = new TicketFanOut(1_000);
    // 100 kB a change: the paused client's kernel buffers fill after a few dozen.
    const graph = answering("x".repeat(100_000));
    const fast = await connect();
    const slow = await connect();
    for (const connection of [fast, slow]) {
      subscribeAll(fanOut, connection.socket, graph.resolve);
    }
    (slow.client as unknown as { _socket: { pause(): void } })._socket.pause();

    const changes = 400;
    let buffered = 0;
    for (let version = 1; version <= changes; version++) {
      fanOut.offer(change(`t${version % 10}`, version));
      await until(() => fast.messages.length === version);
      buffered = Math.max(buffered, slow.serverSide.bufferedAmount);
    }
    // The fast client had every change while the slow one read nothing.
    expect(fast.messages.map((message) => message.payload.data?.changed.version)).toEqual(
      Array.from({ length: changes }, (_, i) => i + 1),
    );
    expect(slow.messages).toHaveLength(0);
    // What waits for the slow client in the gateway's memory is bounded: a frame or so past the
    // mark, not 40 MB.
    expect(buffered).toBeLessThan(64 * 1024 + 2 * 100_100);

    (slow.client as unknown as { _socket: { resume(): void } })._socket.resume();
    await until(() => {
      const last = new Map(
        slow.messages.map((m) => [m.payload.data!.changed.id, m.payload.data!.changed.version]),
      );
      return [...last.values()].sort((x, y) => x - y).join() === "391,392,393,394,395,396,397,398,399,400";
    });
    // Fewer than all: older changes of a ticket were replaced while it did not read; per ticket
    // the versions only go up.
    expect(slow.messages.length).toBeLessThan(changes);
    const seen = new Map<string, number>();
    for (const message of slow.messages) {
      const { id, version } = message.payload.data!.changed;
      expect(version).toBeGreaterThan(seen.get(id) ?? 0);
      seen.set(id, version);
    }
  });

  it("ends a subscription whose backlog passes maxPending with SLOW_CONSUMER, and only that one", async () => {
    const fanOut = new TicketFanOut(5);
    const graph = answering("x".repeat(100_000));
    const fast = await connect();
    const slow = await connect();
    const fastSubscription = subscribeAll(fanOut, fast.socket, graph.resolve);
    const slowSubscription = subscribeAll(fanOut, slow.socket, graph.resolve);
    (slow.client as unknown as { _socket: { pause(): void } })._socket.pause();
    const ending = slowSubscription.next();
    // Distinct tickets: nothing to replace, the backlog only grows.
    for (let n = 1; fanOut.size() === 2; n++) {
      fanOut.offer(change(`t${n}`, 1));
      await until(() => fast.messages.length === n);
    }
    const ended = await ending;
    expect(ended.done).toBe(false);
    expect(JSON.stringify(ended.value)).toContain("SLOW_CONSUMER");
    expect(await slowSubscription.next()).toEqual({ done: true, value: undefined });
    expect(fanOut.size()).toBe(1);

    fanOut.endAll(new LiveEnded("The graph changed; subscribe again", "SUPERGRAPH_CHANGED"));
    expect(JSON.stringify((await fastSubscription.next()).value)).toContain("SUPERGRAPH_CHANGED");
    expect(fanOut.size()).toBe(0);
  });
});
