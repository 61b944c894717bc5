// A ticket change the graph fails to resolve for a moment (the tickets subgraph unreachable, as
// under an on-sale's load) is resolved again; it never reaches the fans as an error that is no
// answer to what they asked.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "@ticketing/testkit";
import { type Browser, startSystem, type System, dataOf, signedUp } from "./support.js";

const CREATE_EVENT = `mutation($input: CreateEventInput!) { createEvent(input: $input) { id } }`;
const LIST_TICKET = `mutation($input: ListTicketInput!) { listTicket(input: $input) { id } }`;
const UPDATE_TICKET = `mutation($id: ID!, $input: UpdateTicketInput!) { updateTicket(id: $id, input: $input) { id } }`;
const CHANGES = `subscription($eventId: ID!) {
  ticketChanged(eventId: $eventId) { id price { amount } seller { displayName } }
}`;

interface Message {
  type: string;
  payload?: {
    data?: { ticketChanged: { id: string; price: { amount: number } } } | null;
    errors?: unknown[];
  };
}

/**
 * The tickets subgraph behind a proxy that resets the connection of the gateway's live reads of
 * the tickets named in `failing`, as many times as given there, and passes everything else on.
 */
async function failingProxy(target: string) {
  const failing = new Map<string, number>();
  /** The tickets of each live read that came through, and a gate that holds them while set. */
  const live = { reads: [] as string[][], held: undefined as Promise<void> | undefined };
  const server = createServer((req: IncomingMessage, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const { query, variables } = JSON.parse(body.toString()) as {
        query: string;
        variables?: Record<string, unknown>;
      };
      // The live side reads the changes of several tickets in one operation, as $__t0, $__t1, …
      const ticketIds = query.includes("LiveTickets")
        ? Object.entries(variables ?? {})
            .filter(([name]) => /^__t\d+$/.test(name))
            .map(([, id]) => String(id))
        : [];
      const ticketId = ticketIds.find((id) => (failing.get(id) ?? 0) > 0);
      if (ticketId !== undefined) {
        failing.set(ticketId, failing.get(ticketId)! - 1);
        req.socket.destroy();
        return;
      }
      if (ticketIds.length > 0) {
        live.reads.push(ticketIds);
        await live.held;
      }
      const headers = Object.entries(req.headers).filter(
        (entry): entry is [string, string] =>
          typeof entry[1] === "string" && !["host", "connection", "content-length"].includes(entry[0]),
      );
      const answer = await fetch(target, { method: req.method ?? "POST", headers, body });
      res.writeHead(answer.status, {
        "content-type": answer.headers.get("content-type") ?? "application/json",
      });
      res.end(Buffer.from(await answer.arrayBuffer()));
    })().catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    failing,
    live,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let system: System;
let proxy: Awaited<ReturnType<typeof failingProxy>>;
let ops: Browser;
let seller: Browser;

const list = async (eventId: string, amount: number) =>
  dataOf(
    await seller.graphql<{ listTicket: { id: string } }>(LIST_TICKET, {
      input: { eventId, title: "Seat", price: { amount, currency: "EUR" } },
    }),
  ).listTicket.id;

/** Fans subscribed to the changes of a new event, recording every message they receive. */
async function fansOfNewEvent(count: number) {
  const created = await ops.graphql<{ createEvent: { id: string } }>(CREATE_EVENT, {
    input: { name: "On sale", venue: "Hall", city: "Lyon", startsAt: "2031-09-01T20:00:00Z" },
  });
  const eventId = dataOf(created).createEvent.id;
  const before = system.gateway.live?.subscribers() ?? 0;
  const fans = await Promise.all(
    Array.from({ length: count }, async (_, n) => {
      const socket = new WebSocket(`${system.url.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
      const messages: Message[] = [];
      socket.on("message", (raw: Buffer) => messages.push(JSON.parse(raw.toString()) as Message));
      await new Promise((resolve) => socket.once("open", resolve));
      socket.send(JSON.stringify({ type: "connection_init" }));
      await eventually(
        () => Promise.resolve(messages[0]?.type),
        (type) => type === "connection_ack",
      );
      messages.shift();
      const payload = { query: CHANGES, variables: { eventId } };
      socket.send(JSON.stringify({ id: `fan-${n}`, type: "subscribe", payload }));
      return { socket, messages };
    }),
  );
  await eventually(
    () => system.gateway.live?.subscribers() ?? 0,
    (subscribers) => subscribers === before + count,
  );
  return { eventId, fans };
}

beforeAll(async () => {
  const opsEmail = `ops-${randomUUID()}@example.com`;
  system = await startSystem(
    { OPS_EMAILS: opsEmail },
    {},
    {
      tickets: true,
      route: async (_name, url) => {
        proxy = await failingProxy(url);
        return proxy.url;
      },
    },
  );
  ops = await signedUp(system, opsEmail, "Ops");
  seller = await signedUp(system, `seller-${randomUUID()}@example.com`, "Sally Seller");
});
afterAll(async () => {
  await system?.stop();
  await proxy?.close();
});

describe("a ticket change the graph fails to resolve", () => {
  it("is resolved again, and every fan gets it once, as its data", async () => {
    const { eventId, fans } = await fansOfNewEvent(5);
    const first = await list(eventId, 1_000);
    await eventually(
      () => Promise.resolve(fans.every((fan) => fan.messages.length === 1)),
      (all) => all,
    );
    // Its next change fails twice in the graph before it is answered.
    proxy.failing.set(first, 2);
    dataOf(
      await seller.graphql(UPDATE_TICKET, {
        id: first,
        input: { price: { amount: 1_500, currency: "EUR" } },
      }),
    );
    await eventually(
      () => Promise.resolve(fans.every((fan) => fan.messages.length >= 2)),
      (all) => all,
    );
    expect(proxy.failing.get(first)).toBe(0);
    for (const fan of fans) {
      expect(fan.messages.map((message) => message.payload)).toEqual([
        {
          data: {
            ticketChanged: { id: first, price: { amount: 1_000 }, seller: { displayName: "Sally Seller" } },
          },
        },
        {
          data: {
            ticketChanged: { id: first, price: { amount: 1_500 }, seller: { displayName: "Sally Seller" } },
          },
        },
      ]);
      fan.socket.close();
    }
  });

  it("sends nothing while the graph keeps failing, and the ticket's next change once it answers", async () => {
    const { eventId, fans } = await fansOfNewEvent(5);
    const ticket = await list(eventId, 2_000);
    await eventually(
      () => Promise.resolve(fans.every((fan) => fan.messages.length === 1)),
      (all) => all,
    );
    proxy.failing.set(ticket, Number.MAX_SAFE_INTEGER);
    const update = (amount: number) =>
      seller.graphql(UPDATE_TICKET, { id: ticket, input: { price: { amount, currency: "EUR" } } });
    dataOf(await update(2_100));
    // Another ticket's change goes out meanwhile.
    const other = await list(eventId, 3_000);
    await eventually(
      () => Promise.resolve(fans.every((fan) => fan.messages.length === 2)),
      (all) => all,
    );
    // Asked again: still nothing for the fans.
    await eventually(
      () => Promise.resolve(proxy.failing.get(ticket)!),
      (left) => left <= Number.MAX_SAFE_INTEGER - 2,
    );
    for (const fan of fans) {
      expect(fan.messages.map((message) => message.payload?.data?.ticketChanged.id)).toEqual([ticket, other]);
    }
    proxy.failing.delete(ticket);
    dataOf(await update(2_200));
    await eventually(
      () =>
        Promise.resolve(
          fans.every((fan) => fan.messages.at(-1)?.payload?.data?.ticketChanged.price.amount === 2_200),
        ),
      (all) => all,
    );
    for (const fan of fans) {
      expect(fan.messages.every((message) => message.type === "next" && !message.payload?.errors)).toBe(true);
      fan.socket.close();
    }
  });

  it("reads the changes that queued while the graph was slow together, within the graph's limits", async () => {
    const { eventId, fans } = await fansOfNewEvent(3);
    let release!: () => void;
    proxy.live.held = new Promise((resolve) => (release = resolve));
    proxy.live.reads = [];
    const listed: string[] = [];
    for (let n = 0; n < 24; n++) listed.push(await list(eventId, 4_000 + n));
    release();
    proxy.live.held = undefined;
    await eventually(
      () => Promise.resolve(fans.every((fan) => fan.messages.length >= listed.length)),
      (all) => all,
    );
    for (const fan of fans) {
      expect(fan.messages.every((message) => message.type === "next" && !message.payload?.errors)).toBe(true);
      expect(new Set(fan.messages.map((message) => message.payload?.data?.ticketChanged.id))).toEqual(
        new Set(listed),
      );
      fan.socket.close();
    }
    // Each ticket read once; those that waited, several in one query, but never more than the
    // graph's alias limit (15) lets one client's query have.
    expect(proxy.live.reads.flat().sort()).toEqual([...listed].sort());
    expect(Math.max(...proxy.live.reads.map((read) => read.length))).toBeGreaterThan(1);
    expect(Math.max(...proxy.live.reads.map((read) => read.length))).toBeLessThanOrEqual(15);
  });
});
