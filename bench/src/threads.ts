import { Worker } from "node:worker_threads";

/**
 * Starts a TypeScript module as a worker thread. The benchmarks run under tsx, whose loader a
 * worker does not inherit on Node 20, so the worker registers it before importing the module.
 */
export function startWorker(module: URL, workerData: unknown): Worker {
  const source = `import("tsx/esm/api")
    .then(({ register }) => { register(); return import(${JSON.stringify(module.href)}); });`;
  return new Worker(source, { eval: true, workerData });
}

/**
 * Milliseconds on a clock every thread of the process shares (`performance.now()` alone counts
 * from each thread's own start), so that a time taken in one worker can be compared with one
 * taken in another.
 */
export const now = () => performance.timeOrigin + performance.now();
