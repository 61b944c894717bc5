import { Worker } from "node:worker_threads";

export interface LoadResult {
  /** Latency of each successful request, in ms. */
  samples: number[];
  failures: number;
}

// Plain JavaScript, so the worker needs no TypeScript loader.
const LOAD_WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { url, headers, body, clients, seconds } = workerData;
(async () => {
  const samples = [];
  let failures = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < deadline) {
      const start = performance.now();
      try {
        const response = await fetch(url, { method: "POST", headers, body });
        const json = await response.json();
        if (!response.ok || json.errors) failures++;
        else samples.push(performance.now() - start);
      } catch {
        failures++;
      }
    }
  }));
  parentPort.postMessage({ samples, failures });
})();
`;

/**
 * `clients` concurrent closed-loop clients POSTing one GraphQL request for `seconds`. They run
 * in a worker thread, so the load generator does not share an event loop with the services.
 */
export function runLoad(options: {
  url: string;
  body: unknown;
  headers?: Record<string, string>;
  clients: number;
  seconds: number;
}): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(LOAD_WORKER, {
      eval: true,
      workerData: {
        url: options.url,
        headers: { "content-type": "application/json", ...options.headers },
        body: JSON.stringify(options.body),
        clients: options.clients,
        seconds: options.seconds,
      },
    });
    worker.once("message", (result: LoadResult) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once("error", reject);
  });
}
