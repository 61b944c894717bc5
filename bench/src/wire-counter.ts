// A TCP relay in front of the MongoDB-wire server that counts the commands passing through it, by
// database and command, read off each OP_MSG's body: what every service sends, whatever its
// driver or version, without asking the services anything.
import { createServer, connect as connectTcp, type AddressInfo, type Socket } from "node:net";
import { BSON } from "mongodb";

const OP_MSG = 2013;
/** Header (16 bytes), flag bits (4), the body section's kind byte (1). */
const BODY_OFFSET = 21;

export interface WireCounter {
  /** The server's URL through the relay. */
  url: string;
  /** Commands seen so far, by `database command`, e.g. `ticketing-orders insert`. */
  snapshot(): Map<string, number>;
  close(): Promise<void>;
}

/** Starts a relay to the server of `mongoUrl` (mongodb://host:port/) on a free local port. */
export async function startWireCounter(mongoUrl: string): Promise<WireCounter> {
  const target = new URL(mongoUrl);
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();

  const count = (message: Buffer) => {
    if (message.readInt32LE(12) !== OP_MSG || message[20] !== 0) return;
    const body = BSON.deserialize(
      message.subarray(BODY_OFFSET, BODY_OFFSET + message.readInt32LE(BODY_OFFSET)),
    );
    const command = Object.keys(body)[0];
    const database = typeof body.$db === "string" ? body.$db : "?";
    const key = `${database} ${command}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };

  const server = createServer((client) => {
    const upstream = connectTcp(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let pending: Buffer = Buffer.alloc(0);
    client.on("data", (chunk: Buffer) => {
      upstream.write(chunk);
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        const length = pending.readInt32LE(0);
        count(pending.subarray(0, length));
        pending = pending.subarray(length);
      }
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `mongodb://127.0.0.1:${port}/`,
    snapshot: () => new Map(counts),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
