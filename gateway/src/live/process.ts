// The live process (ADR 10): the gateway's WebSockets held by a child process of their own, so
// that their fan-out and the HTTP requests do not wait for each other's turns of one event loop.
// The gateway keeps the port; each upgrade request for the graph's path is handed over, socket
// and all, through the IPC channel, and the child completes the handshake (live-main.ts).
import { fork, type ChildProcess } from "node:child_process";
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import type { ProcessMetrics } from "@ticketing/shared-runtime";
import type { Logger } from "pino";
import type { Env } from "../env.js";

/** What the gateway tells its live process. */
export type ToLive =
  | { type: "start"; env: Env }
  | {
      type: "upgrade";
      method: string;
      url: string;
      httpVersion: string;
      rawHeaders: string[];
      /** Bytes the gateway read past the request's headers, base64. */
      head: string;
    }
  | { type: "metrics"; id: number }
  | { type: "close" };

/** What the live process tells the gateway. */
export type FromLive = { type: "ready" } | { type: "metrics"; id: number; metrics: ProcessMetrics };

/** The live process's program, built: from src/ and dist/ alike (the tests run the built one). */
const LIVE_MAIN = fileURLToPath(new URL("../../dist/live-main.js", import.meta.url));
/** The gateway's Node flags the live process runs with too: source maps and CPU profiles. */
const PASSED_FLAGS = /^--(enable-source-maps|cpu-prof)/;
/** The least time between two starts of the live process. */
const RESTART_EVERY_MS = 1_000;
/** How long a scrape waits for the live process's metrics. */
const METRICS_WAIT_MS = 2_000;
/** What the live process is given past the grace to end once told to close. */
const EXIT_WAIT_MS = 2_000;
/** How long a client refused while the live process starts is told to wait. */
const RETRY_AFTER_SECONDS = 2;

export interface LiveProcessOptions {
  /** The gateway's settings: the live process runs with the same. */
  env: Env;
  logger: Logger;
  /** The path the WebSocket endpoint serves. */
  path?: string;
  /** The program to run instead of the built live-main.js. */
  program?: string;
}

export interface LiveProcess {
  /** The gateway's `upgrade` listener: the socket goes to the live process, or is refused. */
  upgrade(request: IncomingMessage, socket: Socket, head: Buffer): void;
  /** Whether the live process is up and taking connections. */
  ready(): boolean;
  /** The live process's metrics, or none when it does not answer in time. */
  metrics(): Promise<ProcessMetrics[]>;
  /** The pid of the running live process. */
  pid(): number | undefined;
  /**
   * Tells the live process to close its connections (1012: clients reconnect) and end, and waits
   * for it, `graceMs` and a little more at most.
   */
  close(graceMs: number): Promise<void>;
}

/** An HTTP answer written on a raw socket that asked to upgrade, which then closes. */
function refuseUpgrade(socket: Socket, status: string, headers: Record<string, string> = {}) {
  const lines = [`HTTP/1.1 ${status}`, "connection: close", "content-length: 0"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  socket.end(`${lines.join("\r\n")}\r\n\r\n`);
}

export function startLiveProcess({
  env,
  logger,
  path = "/graphql",
  program = LIVE_MAIN,
}: LiveProcessOptions): LiveProcess {
  let child: ChildProcess | undefined;
  let isReady = false;
  let stopping = false;
  let lastStart = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let nextMetricsId = 0;
  const waitingMetrics = new Map<number, (metrics: ProcessMetrics[]) => void>();

  function start() {
    lastStart = Date.now();
    isReady = false;
    // Its settings come by message, parsed already. Of the gateway's Node flags it takes those
    // that change no behaviour (a test runner's loaders stay with the test).
    const started = fork(program, [], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      execArgv: process.execArgv.filter((flag) => PASSED_FLAGS.test(flag)),
    });
    child = started;
    started.on("message", (message: FromLive) => {
      if (message.type === "ready") {
        isReady = true;
        logger.info({ pid: started.pid }, "the live process is ready");
      } else if (message.type === "metrics") {
        waitingMetrics.get(message.id)?.([message.metrics]);
      }
    });
    // A send to a process that is gone fails here as well as in its callback.
    started.on("error", (err) => logger.warn({ err }, "the live process could not be reached"));
    started.on("exit", (code, signal) => {
      if (child === started) {
        child = undefined;
        isReady = false;
      }
      for (const answer of waitingMetrics.values()) answer([]);
      waitingMetrics.clear();
      if (stopping) return;
      logger.error({ code, signal }, "the live process ended; starting another");
      const wait = Math.max(0, lastStart + RESTART_EVERY_MS - Date.now());
      restartTimer = setTimeout(start, wait);
    });
    // The response cache is the gateway's: the live process answers no HTTP.
    const settings: ToLive = {
      type: "start",
      env: { ...env, responseCache: { ...env.responseCache, enabled: false } },
    };
    started.send(settings);
  }

  start();

  return {
    upgrade(request, socket, head) {
      const url = request.url ?? "/";
      if (new URL(url, "http://gateway").pathname !== path) {
        refuseUpgrade(socket, "404 Not Found");
        return;
      }
      const target = child;
      if (!target || !isReady || stopping) {
        refuseUpgrade(socket, "503 Service Unavailable", { "retry-after": String(RETRY_AFTER_SECONDS) });
        return;
      }
      const message: ToLive = {
        type: "upgrade",
        method: request.method ?? "GET",
        url,
        httpVersion: request.httpVersion,
        rawHeaders: request.rawHeaders,
        head: head.toString("base64"),
      };
      // Node hands a socket on without stopping its reads here: what the client sends once the
      // live process has answered its handshake could be read by this process, and dropped.
      // Stopped, the bytes wait in the kernel for the live process.
      (socket as unknown as { _handle?: { readStop?: () => number } })._handle?.readStop?.();
      target.send(message, socket, { keepOpen: false }, (error) => {
        if (error) socket.destroy();
      });
    },
    ready: () => isReady && !stopping,
    pid: () => child?.pid,
    metrics() {
      const target = child;
      if (!target || !isReady) return Promise.resolve([]);
      const id = nextMetricsId++;
      return new Promise((resolve) => {
        const timer = setTimeout(() => answer([]), METRICS_WAIT_MS);
        const answer = (metrics: ProcessMetrics[]) => {
          clearTimeout(timer);
          waitingMetrics.delete(id);
          resolve(metrics);
        };
        waitingMetrics.set(id, answer);
        const request: ToLive = { type: "metrics", id };
        target.send(request, (error) => {
          if (error) answer([]);
        });
      });
    },
    async close(graceMs) {
      stopping = true;
      clearTimeout(restartTimer);
      const target = child;
      if (!target || target.exitCode !== null || target.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => target.once("exit", () => resolve()));
      const request: ToLive = { type: "close" };
      target.send(request, (error) => {
        if (error) target.kill("SIGKILL");
      });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">(
        (resolve) => (timer = setTimeout(() => resolve("late"), graceMs + EXIT_WAIT_MS)),
      );
      if ((await Promise.race([exited, late])) === "late") {
        logger.warn("the live process did not end in time; killed");
        target.kill("SIGKILL");
        await exited;
      }
      clearTimeout(timer);
    },
  };
}
