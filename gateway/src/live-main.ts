// The gateway's live process (ADR 10), started by the gateway (live/process.ts): its settings come
// first, then the sockets of WebSocket upgrades, each completed here as if it had arrived here.
// The gateway decides when it ends: it is told to close, or finds the gateway gone.
import { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { createLogger, processMetrics } from "@ticketing/shared-runtime";
import type { Env } from "./env.js";
import type { FromLive, ToLive } from "./live/process.js";
import { liveService } from "./service.js";

// A Ctrl-C reaches the whole process group: the gateway closes this process in its own shutdown.
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => undefined);
// The gateway is gone (kill -9): its clients reconnect to the next one.
process.on("disconnect", () => process.exit(1));

const send = (message: FromLive) => void process.send?.(message);

/** Header names in lower case, repeated ones joined as Node's HTTP parser joins them. */
function headersOf(rawHeaders: string[]): IncomingMessage["headers"] {
  const headers: Record<string, string> = {};
  for (let n = 0; n + 1 < rawHeaders.length; n += 2) {
    const name = rawHeaders[n]!.toLowerCase();
    const value = rawHeaders[n + 1]!;
    const before = headers[name];
    headers[name] = before === undefined ? value : `${before}${name === "cookie" ? "; " : ", "}${value}`;
  }
  return headers;
}

let running: Awaited<ReturnType<typeof liveService.start>> | undefined;
let closing = false;

function close() {
  closing = true;
  if (!running) process.exit(0);
  running.drain();
  void running.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}

/** An upgrade request's socket, completed by the gateway's WebSocket server here. */
function upgrade(message: Extract<ToLive, { type: "upgrade" }>, socket: Socket) {
  const request = new IncomingMessage(socket);
  request.method = message.method;
  request.url = message.url;
  request.httpVersion = message.httpVersion;
  request.rawHeaders = message.rawHeaders;
  request.headers = headersOf(message.rawHeaders);
  running!.gateway.httpServer.emit("upgrade", request, socket, Buffer.from(message.head, "base64"));
}

async function start(env: Env) {
  const logger = createLogger("gateway-live", env.logLevel);
  try {
    running = await liveService.start(env, { logger });
  } catch (err) {
    logger.fatal({ err }, "the live process failed to start");
    process.exit(1);
  }
  // Told to close while it started.
  if (closing) close();
  else send({ type: "ready" });
}

process.on("message", (message: ToLive, socket?: Socket) => {
  switch (message.type) {
    case "start":
      void start(message.env);
      return;
    case "upgrade":
      // The gateway hands sockets over only once this process is ready.
      if (socket && running && !closing) upgrade(message, socket);
      else socket?.destroy();
      return;
    case "metrics":
      void processMetrics().then((metrics) => send({ type: "metrics", id: message.id, metrics }));
      return;
    case "close":
      close();
      return;
  }
});
