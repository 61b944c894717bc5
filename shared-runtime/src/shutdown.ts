import type { Logger } from "pino";
import { withTimeout } from "./timeout.js";

export interface ShutdownStep {
  name: string;
  run: () => void | Promise<void>;
}

export interface ShutdownOptions {
  logger: Logger;
  /** In order: stop taking requests, drain consumers, flush the outbox, close connections. */
  steps: ShutdownStep[];
  /** The most each step may take; a step that overruns is abandoned and the next one runs. */
  timeoutMs?: number;
}

/** Runs the steps one after another, each bounded; true when every step finished cleanly. */
export async function runShutdownSteps({
  logger,
  steps,
  timeoutMs = 10_000,
}: ShutdownOptions): Promise<boolean> {
  let clean = true;
  for (const step of steps) {
    const started = Date.now();
    try {
      await withTimeout(Promise.resolve().then(step.run), timeoutMs, `shutdown step "${step.name}"`);
      logger.info({ step: step.name, ms: Date.now() - started }, "shutdown step done");
    } catch (err) {
      clean = false;
      logger.error({ step: step.name, err }, "shutdown step failed");
    }
  }
  return clean;
}

/**
 * On SIGTERM or SIGINT runs the steps, then exits: 0 when all finished, 1 when one failed or
 * overran. A repeated signal does not start a second run. `shutdown` starts it from code.
 */
export function gracefulShutdown(options: ShutdownOptions): { shutdown: (reason: string) => Promise<void> } {
  const { logger } = options;
  let running: Promise<void> | undefined;
  function shutdown(reason: string): Promise<void> {
    if (running) {
      logger.info({ reason }, "already shutting down");
      return running;
    }
    logger.info({ reason }, "shutting down");
    running = runShutdownSteps(options).then((clean) => {
      logger.info({ clean }, "shut down");
      process.exit(clean ? 0 : 1);
    });
    return running;
  }
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => void shutdown(signal));
  }
  return { shutdown };
}
