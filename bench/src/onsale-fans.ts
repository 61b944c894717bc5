// Worker thread of bench:onsale: `count` anonymous fans, one graphql-transport-ws connection each,
// each subscribed once to ticketChanged of the event. It notes when each connection first holds
// each version of each ticket, and reports on request, per ticket version, how many connections
// hold it and when the last of them got it.
import { parentPort, workerData } from "node:worker_threads";
import WebSocket from "ws";
import { now } from "./threads.js";

export interface FansData {
  /** The graph's WebSocket URL. */
  url: string;
  eventId: string;
  count: number;
}

/** [ticket id, version, connections holding it, when the last of them got it] */
export type Delivery = [string, number, number, number];

export type FansMessage =
  | { type: "subscribed"; connections: number }
  | { type: "report"; deliveries: Delivery[]; errors: Record<string, number>; closed: number };

export type FansCommand = { type: "report" } | { type: "close" };

const { url, eventId, count } = workerData as FansData;
const port = parentPort!;

const SUBSCRIBE = JSON.stringify({
  id: "1",
  type: "subscribe",
  payload: {
    query: "subscription($eventId: ID!) { ticketChanged(eventId: $eventId) { id version status } }",
    variables: { eventId },
  },
});
// graphql-js writes fields in the order selected, so one regular expression reads the two fields
// needed out of nearly every message without building an object for it.
const CHANGE = /"ticketChanged":\{"id":"([^"]+)","version":(\d+)/;
/** Connections opening at once: more would only queue in the gateway's accept backlog. */
const OPENING_AT_ONCE = 100;

/** For each ticket, the newest version each connection holds (0: none yet). */
const held = new Map<string, Uint16Array>();
/** For each "ticket id:version", how many connections hold it and when the last one got it. */
const deliveries = new Map<
  string,
  { ticketId: string; version: number; connections: number; last: number }
>();
const errors: Record<string, number> = {};
let closed = 0;
const sockets: WebSocket[] = [];

const countError = (code: string) => (errors[code] = (errors[code] ?? 0) + 1);

/**
 * A connection got `version` of a ticket. The gateway keeps only the newest pending change of a
 * ticket per subscriber, so a version may arrive in place of older ones: those are held from now
 * on too (the fan's page shows the ticket's current state).
 */
function received(connection: number, ticketId: string, version: number, at: number) {
  let versions = held.get(ticketId);
  if (!versions) held.set(ticketId, (versions = new Uint16Array(count)));
  const before = versions[connection]!;
  if (version <= before) return;
  versions[connection] = version;
  for (let v = before + 1; v <= version; v++) {
    const key = `${ticketId}:${v}`;
    const delivery = deliveries.get(key);
    if (delivery) {
      delivery.connections++;
      delivery.last = at;
    } else deliveries.set(key, { ticketId, version: v, connections: 1, last: at });
  }
}

function open(connection: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, "graphql-transport-ws", { perMessageDeflate: false });
    sockets.push(socket);
    socket.on("open", () => socket.send('{"type":"connection_init"}'));
    socket.on("message", (raw: Buffer) => {
      const at = now();
      const text = raw.toString();
      const change = CHANGE.exec(text);
      if (change) {
        received(connection, change[1]!, Number(change[2]), at);
        return;
      }
      const message = JSON.parse(text) as {
        type: string;
        payload?:
          | { errors?: { message?: string; extensions?: { code?: string } }[] }
          | { extensions?: { code?: string } }[];
      };
      if (message.type === "connection_ack") {
        socket.send(SUBSCRIBE);
        resolve();
      } else if (message.type === "ping") socket.send('{"type":"pong"}');
      else if (message.type === "error" || message.type === "complete") {
        countError(message.type === "complete" ? "COMPLETE" : "ERROR");
      } else if (message.type === "next" && message.payload && "errors" in message.payload) {
        for (const error of message.payload.errors ?? []) {
          countError(`${error.extensions?.code ?? "UNCODED"}: ${error.message?.slice(0, 100)}`);
        }
      }
    });
    socket.on("error", (error) => {
      countError(`socket: ${error.message}`);
      resolve();
    });
    socket.on("close", () => {
      closed++;
      resolve();
    });
  });
}

port.on("message", (command: FansCommand) => {
  if (command.type === "close") {
    for (const socket of sockets) socket.terminate();
    port.close();
    return;
  }
  const report: FansMessage = {
    type: "report",
    deliveries: [...deliveries.values()].map((d) => [d.ticketId, d.version, d.connections, d.last]),
    errors,
    closed,
  };
  port.postMessage(report);
});

let next = 0;
await Promise.all(
  Array.from({ length: Math.min(OPENING_AT_ONCE, count) }, async () => {
    while (next < count) await open(next++);
  }),
);
port.postMessage({ type: "subscribed", connections: sockets.length - closed } satisfies FansMessage);
