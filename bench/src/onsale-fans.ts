// Worker thread of bench:onsale: `count` anonymous fans, one graphql-transport-ws connection each,
// each subscribed once to ticketChanged of the event. It notes when each connection first holds
// each version of each ticket, and reports on request, per ticket version, how many connections
// hold it and when the last of them got it.
import { parentPort, workerData } from "node:worker_threads";
import WebSocket from "ws";
import { TICKET_CHANGES } from "./graph.js";
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
  payload: { operationName: "TicketChanges", query: TICKET_CHANGES, variables: { eventId } },
});
// graphql-js writes fields in the order selected, so one regular expression reads the two fields
// needed out of nearly every message without building an object for it.
const CHANGE = /"ticketChanged":\{"id":"([^"]+)","status":"[A-Z]+","version":(\d+)/;
/** Connections opening at once: more would only queue in the gateway's accept backlog. */
const OPENING_AT_ONCE = 100;

/** A ticket's receipts: the newest version each connection holds (0: none yet), and per version. */
interface TicketReceipts {
  held: Uint16Array;
  /** By version: how many connections hold it, and when the last of them got it. */
  connections: number[];
  last: number[];
}

const tickets = new Map<string, TicketReceipts>();
const errors: Record<string, number> = {};
let closed = 0;
const sockets: WebSocket[] = [];

const countError = (code: string) => (errors[code] = (errors[code] ?? 0) + 1);

/**
 * A connection got `version` of a ticket. The gateway keeps only the newest pending change of a
 * ticket per subscriber, so a version may arrive in place of older ones: those are held from now
 * on too (the fan's page shows the ticket's current state). Two million of these in a race: no
 * allocation on this path but a ticket's first receipt.
 */
function received(connection: number, ticketId: string, version: number, at: number) {
  let ticket = tickets.get(ticketId);
  if (!ticket) tickets.set(ticketId, (ticket = { held: new Uint16Array(count), connections: [], last: [] }));
  const before = ticket.held[connection]!;
  if (version <= before) return;
  ticket.held[connection] = version;
  for (let v = before + 1; v <= version; v++) {
    ticket.connections[v] = (ticket.connections[v] ?? 0) + 1;
    ticket.last[v] = at;
  }
}

function open(connection: number): Promise<void> {
  return new Promise((resolve) => {
    // A fan counts receipts; the gateway's tests check its frames. Validating each as UTF-8 here
    // would take CPU from the services measured.
    const socket = new WebSocket(url, "graphql-transport-ws", {
      perMessageDeflate: false,
      skipUTF8Validation: true,
    });
    sockets.push(socket);
    socket.on("open", () => socket.send('{"type":"connection_init"}'));
    socket.on("message", (raw: Buffer) => {
      const at = now();
      // Ticket ids and versions are ASCII: latin1 reads them without decoding UTF-8.
      const change = CHANGE.exec(raw.toString("latin1"));
      if (change) {
        received(connection, change[1]!, Number(change[2]), at);
        return;
      }
      const message = JSON.parse(raw.toString()) as {
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
    deliveries: [...tickets].flatMap(([ticketId, { connections, last }]) =>
      connections.flatMap((held, version): Delivery[] =>
        held === undefined ? [] : [[ticketId, version, held, last[version]!]],
      ),
    ),
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
