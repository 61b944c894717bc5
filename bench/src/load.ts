import { Worker } from "node:worker_threads";

export interface LoadResult {
  /** Latency of each successful request, in ms. */
  samples: number[];
  /** With `rate`: when each of `samples` was due, in ms from the start of the run. */
  dueAt: number[];
  failures: number;
  /** Requests still without an answer when the run ended, dropped uncounted. */
  unfinished: number;
  /** The first failure's status and body, to tell a broken setup from an overloaded one. */
  firstFailure?: string;
  /** How long the run lasted, in seconds: `seconds`, or less when it was ended by `until`. */
  elapsed: number;
}

// Plain JavaScript, so the worker needs no TypeScript loader. node:http with a keep-alive agent
// rather than fetch: on two cores the load generator competes with the servers it measures, and
// fetch's stream machinery costs several times more CPU per request. A response counts as a
// success when it is a 200 whose JSON has no `errors`; one slower than `timeoutMs` fails. At the
// deadline, requests still in flight are dropped uncounted, so a run lasts `seconds` however slow
// the server is.
const LOAD_WORKER = `
const http = require("node:http");
const { parentPort, workerData } = require("node:worker_threads");
const { url, headers, bodies, clients, seconds, timeoutMs, renameEachPass, rate } = workerData;
const target = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: rate ? Infinity : clients });
const encoded = bodies.map((body) => Buffer.from(body));
const DROPPED = Symbol("dropped");
const inFlight = new Set();
let next = 0;
function bodyFor(index) {
  if (!renameEachPass) return encoded[index % encoded.length];
  const pass = Math.floor(index / encoded.length);
  return Buffer.from(bodies[index % bodies.length].replace(renameEachPass, renameEachPass + "_" + pass));
}
function post(body) {
  return new Promise((resolve) => {
    let timedOut = false;
    let settled = false;
    const finish = (value) => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    // Destroyed by the timeout or at the deadline: a failure, or a request that is not counted.
    const broken = (error) => finish(timedOut ? "no answer within " + timeoutMs + " ms" : request.dropped ? DROPPED : String(error));
    const request = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        headers: { ...headers, "content-length": body.length },
      },
      (response) => {
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString();
          let ok = response.statusCode === 200;
          if (ok) {
            try {
              ok = JSON.parse(text).errors === undefined;
            } catch {
              ok = false;
            }
          }
          finish(ok ? null : response.statusCode + " " + text.slice(0, 300));
        });
        response.on("error", broken);
        response.on("close", () => broken("the connection closed mid-response"));
      },
    );
    const timer = setTimeout(() => {
      timedOut = true;
      request.destroy();
    }, timeoutMs);
    inFlight.add(request);
    request.on("close", () => {
      clearTimeout(timer);
      inFlight.delete(request);
      broken("the connection closed");
    });
    request.on("error", broken);
    request.end(body);
  });
}
(async () => {
  const samples = [];
  const dueAt = [];
  let failures = 0;
  let unfinished = 0;
  let firstFailure;
  const started = performance.now();
  let deadline = started + seconds * 1000;
  const end = () => {
    deadline = 0;
    for (const request of inFlight) {
      request.dropped = true;
      request.destroy();
    }
  };
  // Counts one request's outcome, its latency measured from the time given; false when it was
  // dropped at the end.
  const record = (failure, since) => {
    if (failure === DROPPED) {
      unfinished++;
      return false;
    }
    if (failure === null) samples.push(performance.now() - since);
    else {
      failures++;
      firstFailure ??= failure;
    }
    return true;
  };
  // An open loop stops sending at the deadline but awaits its answers.
  const stop = rate ? undefined : setTimeout(end, seconds * 1000);
  parentPort.once("message", () => {
    clearTimeout(stop);
    end();
  });
  if (rate) {
    // Open loop: a request every 1/rate s whatever the answers, as scans arrive at a gate; the
    // latency runs from when it was due, so a server that falls behind is charged for the wait.
    // At the deadline the requests in flight are still awaited (within timeoutMs) and counted.
    const pending = [];
    for (let i = 0; ; i++) {
      const due = started + (i * 1000) / rate;
      if (due >= deadline) break;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      pending.push(
        post(bodyFor(next++)).then((failure) => {
          if (record(failure, due) && failure === null) dueAt.push(due - started);
        }),
      );
    }
    await Promise.all(pending);
  } else await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < deadline) {
      const body = bodyFor(next++);
      const start = performance.now();
      if (!record(await post(body), start)) break;
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  clearTimeout(stop);
  agent.destroy();
  parentPort.postMessage({ samples, dueAt, failures, unfinished, firstFailure, elapsed });
})();
`;

export interface LoadOptions {
  url: string;
  /** GraphQL request bodies, sent round-robin (one each for a single request). */
  bodies: unknown[];
  headers?: Record<string, string>;
  clients: number;
  seconds: number;
  /** A request without an answer after this long fails; 10 s unless given. */
  timeoutMs?: number;
  /**
   * A name in the bodies (an operation name) that gets the number of the pass appended: after
   * every body has been sent once, the next pass sends documents never seen before, so no
   * response can be served again from a cache keyed by the document.
   */
  renameEachPass?: string;
  /**
   * Requests per second sent on a schedule whatever the answers (an open loop) instead of
   * `clients` closed-loop clients; each latency runs from when its request was due.
   */
  rate?: number;
  /** Ends the run early once it settles; `seconds` is then the longest the run may last. */
  until?: Promise<unknown>;
}

/**
 * `clients` concurrent closed-loop clients (or `rate` requests a second) POSTing GraphQL requests
 * for `seconds`. They run in a
 * worker thread, so the load generator does not share an event loop with the benchmark's own
 * work (a background writer, say).
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(LOAD_WORKER, {
      eval: true,
      workerData: {
        url: options.url,
        headers: { "content-type": "application/json", ...options.headers },
        bodies: options.bodies.map((body) => JSON.stringify(body)),
        clients: options.clients,
        seconds: options.seconds,
        timeoutMs: options.timeoutMs ?? 10_000,
        renameEachPass: options.renameEachPass,
        rate: options.rate,
      },
    });
    worker.once("message", (result: LoadResult) => {
      resolve(result);
      void worker.terminate();
    });
    void options.until?.then(() => worker.postMessage("stop"));
    worker.once("error", reject);
  });
}
