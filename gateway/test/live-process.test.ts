// The gateway's WebSockets held by its live process (ADR 10), built in dist/: the gateway hands
// each upgrade over, the live process serves the subscription, its metrics are read through the
// gateway, a live process that dies is started again, and a shutdown closes its connections
// with 1012 so that clients reconnect.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { eventually } from "@ticketing/testkit";
import { dataOf, signedUp, startSystem, type Browser, type System } from "./support.js";

const CREATE_EVENT = `mutation($input: CreateEventInput!) { createEvent(input: $input) { id } }`;
const LIST_TICKET = `mutation($input: ListTicketInput!) { listTicket(input: $input) { id } }`;
const CHANGES = `subscription($eventId: ID!) { ticketChanged(eventId: $eventId) { id status } }`;

interface Message {
  id?: string;
  type: string;
  payload?: { data?: { ticketChanged?: { id: string; status: string } } };
}

let system: System;
let ops: Browser;
let seller: Browser;
let eventId: string;

/** A graphql-transport-ws connection subscribed to the event's changes, recording what it gets. */
async function fan(id = "changes") {
  const socket = new WebSocket(`${system.url.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
  const messages: Message[] = [];
  const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
  socket.on("message", (raw: Buffer) => messages.push(JSON.parse(raw.toString()) as Message));
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  socket.send(JSON.stringify({ type: "connection_init" }));
  expect(
    await eventually(
      () => messages[0]?.type,
      (type) => type === "connection_ack",
    ),
  ).toBe("connection_ack");
  socket.send(JSON.stringify({ id, type: "subscribe", payload: { query: CHANGES, variables: { eventId } } }));
  return { socket, messages, closed };
}

/** Subscribers as the live process counts them, read through the gateway's metrics. */
async function subscribers(): Promise<number> {
  const [metrics] = (await system.liveProcess()?.metrics()) ?? [];
  const gauge = metrics?.find((metric) => metric.name === "ticketing_live_subscribers");
  return Number(gauge?.values[0]?.value ?? 0);
}

const readiness = async () =>
  (await (await fetch(`${system.url}/readyz`)).json()) as { status: string; checks: Record<string, string> };

async function list(): Promise<string> {
  const listed = await seller.graphql<{ listTicket: { id: string } }>(LIST_TICKET, {
    input: { eventId, title: "Seat", price: { amount: 2_500, currency: "EUR" } },
  });
  return dataOf(listed).listTicket.id;
}

beforeAll(async () => {
  const opsEmail = `ops-${randomUUID()}@example.com`;
  system = await startSystem(
    { OPS_EMAILS: opsEmail },
    { LOG_LEVEL: "warn" },
    { tickets: true, liveProcess: true },
  );
  ops = await signedUp(system, opsEmail, "Ops");
  seller = await signedUp(system, `seller-${randomUUID()}@example.com`, "Sally Seller");
  const created = await ops.graphql<{ createEvent: { id: string } }>(CREATE_EVENT, {
    input: { name: "Handed over", venue: "Hall", city: "Lyon", startsAt: "2031-09-01T20:00:00Z" },
  });
  eventId = dataOf(created).createEvent.id;
  expect((await eventually(readiness, (report) => report.status === "ready")).status).toBe("ready");
});
afterAll(() => system?.stop());

describe("the live process", () => {
  it("serves the WebSockets the gateway hands it, and reports through the gateway", async () => {
    expect((await readiness()).checks.live).toBe("ok");
    // Nothing of the live side runs in the gateway's own process.
    expect(system.gateway.live).toBeUndefined();
    const { socket, messages } = await fan();
    expect(await eventually(subscribers, (count) => count === 1)).toBe(1);

    const ticketId = await list();
    const change = await eventually(
      () => messages.find((m) => m.payload?.data?.ticketChanged?.id === ticketId),
      (message) => message !== undefined,
    );
    expect(change).toMatchObject({ id: "changes", type: "next" });
    expect(change?.payload?.data?.ticketChanged?.status).toBe("AVAILABLE");

    socket.close();
    expect(await eventually(subscribers, (count) => count === 0)).toBe(0);
  });

  it("answers an upgrade for another path with 404", async () => {
    const socket = new WebSocket(`${system.url.replace(/^http/, "ws")}/elsewhere`, "graphql-transport-ws");
    const status = await new Promise<number | undefined>((resolve) => {
      socket.once("unexpected-response", (_request, response) => resolve(response.statusCode));
      socket.once("error", () => resolve(undefined));
    });
    expect(status).toBe(404);
  });

  it("is started again when it dies, and its clients reconnect to the new one", async () => {
    const first = await fan();
    expect(await eventually(subscribers, (count) => count === 1)).toBe(1);
    const pid = system.liveProcess()!.pid()!;
    process.kill(pid, "SIGKILL");
    // The connection dies with the process (1006: no close frame).
    expect(await first.closed).toBe(1006);

    const next = await eventually(
      () => system.liveProcess()!.pid(),
      (running) => running !== undefined && running !== pid,
      15_000,
    );
    expect(next).not.toBe(pid);
    expect((await eventually(readiness, (report) => report.status === "ready", 15_000)).status).toBe("ready");
    const again = await fan();
    expect(await eventually(subscribers, (count) => count === 1)).toBe(1);
    const ticketId = await list();
    expect(
      await eventually(
        () => again.messages.some((m) => m.payload?.data?.ticketChanged?.id === ticketId),
        (got) => got,
      ),
    ).toBe(true);
    again.socket.close();
  });

  it("closes its connections with 1012 when the gateway shuts down, then ends", async () => {
    const { closed } = await fan();
    expect(await eventually(subscribers, (count) => count === 1)).toBe(1);
    const live = system.liveProcess()!;
    const pid = live.pid()!;
    await system.gateway.close();
    expect(await closed).toBe(1012);
    expect(live.pid()).toBeUndefined();
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
