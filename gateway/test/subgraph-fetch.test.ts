import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { subgraphFetch } from "../src/subgraph-fetch.js";

const servers: Server[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
        }),
    ),
  );
});

const answer = (body: string, headers: Record<string, string> = {}) =>
  [
    "HTTP/1.1 200 OK",
    "content-type: application/json",
    "keep-alive: timeout=5",
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    `content-length: ${Buffer.byteLength(body)}`,
    "",
    body,
  ].join("\r\n");

/** A subgraph that answers each request with `reply(connection number, request number on it)`. */
async function subgraph(reply: (connection: number, request: number, socket: Socket) => string | undefined) {
  let connections = 0;
  const received: string[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const connection = ++connections;
    let requests = 0;
    socket.on("data", (chunk: Buffer) => {
      received.push(chunk.toString());
      const text = reply(connection, ++requests, socket);
      if (text !== undefined) socket.write(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return { url, received, connections: () => connections };
}

describe("the gateway's fetch of subgraphs", () => {
  it("posts the body and headers, and reads the status, headers and JSON of the answer", async () => {
    const { url, received } = await subgraph(() =>
      answer('{"data":{"ok":true}}', { "x-session-token": "t" }),
    );
    const fetcher = subgraphFetch();
    const response = await fetcher(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer a" },
      body: '{"query":"{ ok }"}',
    });
    expect(response.status).toBe(200);
    expect(response.ok).toBe(true);
    expect(response.headers.get("X-Session-Token")).toBe("t");
    expect(response.headers.get("absent")).toBeNull();
    expect(await response.json()).toEqual({ data: { ok: true } });
    expect(received[0]).toMatch(/^POST \/graphql HTTP\/1.1\r\n/);
    expect(received[0]).toContain("authorization: Bearer a");
    expect(received[0]).toMatch(/\r\n\r\n\{"query":"\{ ok \}"\}$/);
  });

  it("sends a request again on a new connection when a kept-alive one is reset as it is reused", async () => {
    // The first connection answers once, then resets instead of answering its second request.
    const { url, connections } = await subgraph((connection, request, socket) => {
      if (connection === 1 && request === 2) {
        socket.resetAndDestroy();
        return undefined;
      }
      return answer(`{"data":{"connection":${connection}}}`);
    });
    const fetcher = subgraphFetch();
    const post = () => fetcher(url, { method: "POST", body: "{}" }).then((response) => response.json());
    expect(await post()).toEqual({ data: { connection: 1 } });
    expect(await post()).toEqual({ data: { connection: 2 } });
    expect(connections()).toBe(2);
  });

  it("fails a request whose new connection is reset: it may have reached the subgraph", async () => {
    const { url } = await subgraph((_connection, _request, socket) => {
      socket.resetAndDestroy();
      return undefined;
    });
    await expect(subgraphFetch()(url, { method: "POST", body: "{}" })).rejects.toMatchObject({
      code: "ECONNRESET",
    });
  });
});
