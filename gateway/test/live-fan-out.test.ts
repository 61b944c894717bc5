// ticketChanged fanned out to many WebSocket connections, one subscription each as browsers open
// them, through the real gateway: every change reaches every connection as graphql-ws's own
// messages, each subscription with its own id and response key.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "@ticketing/testkit";
import { type Browser, startSystem, type System, dataOf, signedUp } from "./support.js";

const CREATE_EVENT = `mutation($input: CreateEventInput!) { createEvent(input: $input) { id } }`;
const LIST_TICKET = `mutation($input: ListTicketInput!) { listTicket(input: $input) { id } }`;
const CHANGES = `subscription($eventId: ID!) {
  ticketChanged(eventId: $eventId) { id price { amount } seller { displayName } }
}`;

interface Message {
  id?: string;
  type: string;
  payload?: { data?: Record<string, { id: string; price: { amount: number } } | null>; errors?: unknown[] };
}

let system: System;
let ops: Browser;
let seller: Browser;

async function newEvent(name: string) {
  const created = await ops.graphql<{ createEvent: { id: string } }>(CREATE_EVENT, {
    input: { name, venue: "Hall", city: "Lyon", startsAt: "2031-09-01T20:00:00Z" },
  });
  return dataOf(created).createEvent.id;
}

const list = async (eventId: string, amount: number) =>
  dataOf(
    await seller.graphql<{ listTicket: { id: string } }>(LIST_TICKET, {
      input: { eventId, title: "Seat", price: { amount, currency: "EUR" } },
    }),
  ).listTicket.id;

/** A raw graphql-transport-ws connection, acknowledged, recording every message it receives. */
async function connection() {
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
  const subscribe = (id: string, query: string, variables: Record<string, unknown>) =>
    socket.send(JSON.stringify({ id, type: "subscribe", payload: { query, variables } }));
  return { socket, messages, subscribe };
}

beforeAll(async () => {
  const opsEmail = `ops-${randomUUID()}@example.com`;
  system = await startSystem(
    { OPS_EMAILS: opsEmail },
    { LIVE_SUBSCRIPTIONS_PER_CLIENT: "1000" },
    { tickets: true },
  );
  ops = await signedUp(system, opsEmail, "Ops");
  seller = await signedUp(system, `seller-${randomUUID()}@example.com`, "Sally Seller");
});
afterAll(() => system?.stop());

describe("ticketChanged to many connections", () => {
  it("gives every connection every change, in order, as next messages with its own id", async () => {
    const eventId = await newEvent("On sale");
    const fans = await Promise.all(Array.from({ length: 300 }, () => connection()));
    for (const [n, fan] of fans.entries()) fan.subscribe(`fan-${n}`, CHANGES, { eventId });
    await eventually(
      () => system.gateway.live?.subscribers() ?? 0,
      (count) => count >= fans.length,
    );

    const tickets: string[] = [];
    for (let n = 1; n <= 5; n++) tickets.push(await list(eventId, 1_000 + n));
    await eventually(
      () => Promise.resolve(fans.every((fan) => fan.messages.length >= tickets.length)),
      (all) => all,
    );
    for (const [n, fan] of fans.entries()) {
      expect(fan.messages).toEqual(
        tickets.map((id, i) => ({
          id: `fan-${n}`,
          type: "next",
          payload: {
            data: {
              ticketChanged: { id, price: { amount: 1_001 + i }, seller: { displayName: "Sally Seller" } },
            },
          },
        })),
      );
    }

    // A fan that completes its subscription hears no more of it; the others go on.
    const [leaving, ...staying] = fans;
    leaving!.socket.send(JSON.stringify({ id: "fan-0", type: "complete" }));
    await eventually(
      () => system.gateway.live?.subscribers() ?? 0,
      (count) => count === fans.length - 1,
    );
    const last = await list(eventId, 2_000);
    await eventually(
      () =>
        Promise.resolve(
          staying.every((fan) => fan.messages.at(-1)?.payload?.data?.ticketChanged?.id === last),
        ),
      (all) => all,
    );
    expect(leaving!.messages).toHaveLength(tickets.length);
    for (const fan of fans) fan.socket.close();
  });

  it("gives subscriptions of the same document with other variables the changes of their own event", async () => {
    const [first, second] = [await newEvent("First night"), await newEvent("Second night")];
    const fans = await Promise.all(Array.from({ length: 4 }, () => connection()));
    for (const [n, fan] of fans.entries()) fan.subscribe("1", CHANGES, { eventId: n % 2 ? second : first });
    await eventually(
      () => system.gateway.live?.subscribers() ?? 0,
      (count) => count === fans.length,
    );
    const onFirst = await list(first, 1_100);
    const onSecond = await list(second, 1_200);
    await eventually(
      () => Promise.resolve(fans.every((fan) => fan.messages.length >= 1)),
      (all) => all,
    );
    const alsoOnFirst = await list(first, 1_101);
    await eventually(
      () => Promise.resolve(fans.filter((fan) => fan.messages.length === 2).length),
      (count) => count === 2,
    );
    for (const [n, fan] of fans.entries()) {
      const ids = fan.messages.map((message) => message.payload?.data?.ticketChanged?.id);
      expect(ids).toEqual(n % 2 ? [onSecond] : [onFirst, alsoOnFirst]);
    }
    for (const fan of fans) fan.socket.close();
  });

  it("answers subscriptions that differ only by their alias each under its own response key", async () => {
    const eventId = await newEvent("Aliases");
    const fan = await connection();
    const other = await connection();
    fan.subscribe("plain", CHANGES, { eventId });
    other.subscribe("aliased", CHANGES.replace("ticketChanged(", "seat: ticketChanged("), { eventId });
    await eventually(
      () => system.gateway.live?.subscribers() ?? 0,
      (count) => count === 2,
    );
    const ticketId = await list(eventId, 3_000);
    await eventually(
      () => Promise.resolve(fan.messages.length + other.messages.length),
      (count) => count === 2,
    );
    expect(fan.messages[0]?.payload?.data).toEqual({
      ticketChanged: { id: ticketId, price: { amount: 3_000 }, seller: { displayName: "Sally Seller" } },
    });
    expect(other.messages[0]?.payload?.data).toEqual({
      seat: { id: ticketId, price: { amount: 3_000 }, seller: { displayName: "Sally Seller" } },
    });
    fan.socket.close();
    other.socket.close();
  });
});
