import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { withTimeout } from "./timeout.js";

export interface ShutdownStep {
  name: string;
  /** `timeoutMs`: what the step may take; a step that waits on others (requests, jobs) bounds that wait by it. */
  run: (timeoutMs: number) => void | Promise<void>;
}

export interface ShutdownOptions {
  logger: Logger;
  /** In order: stop taking requests, drain consumers, flush the outbox, close connections. */
  steps: ShutdownStep[];
  /**
   * The budget of all the steps together. Each step may take what remains of it, less a reserve for
   * each step after it, so one step that hangs still leaves the others their turn; a step that
   * overruns is abandoned and the next one runs.
   */
  timeoutMs?: number;
}

/** What a shutdown keeps for each step still to come when an earlier one takes long. */
export function stepReserveMs(timeoutMs: number, steps: number): number {
  return Math.min(1_000, Math.floor(timeoutMs / (2 * Math.max(steps, 1))));
}

/** Runs the steps one after another within one budget; true when every step finished cleanly. */
export async function runShutdownSteps({
  logger,
  steps,
  timeoutMs = 10_000,
}: ShutdownOptions): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const reserve = stepReserveMs(timeoutMs, steps.length);
  let clean = true;
  for (const [index, step] of steps.entries()) {
    const started = Date.now();
    const bound = Math.max(0, deadline - started - reserve * (steps.length - index - 1));
    try {
      await withTimeout(
        Promise.resolve().then(() => step.run(bound)),
        bound,
        `shutdown step "${step.name}"`,
      );
      logger.info({ step: step.name, ms: Date.now() - started }, "shutdown step done");
    } catch (err) {
      clean = false;
      logger.error({ step: step.name, err }, "shutdown step failed");
    }
  }
  return clean;
}

export interface GracefulShutdownOptions extends ShutdownOptions {
  /**
   * Called the moment the signal arrives: the process reports itself unready (so endpoints stop
   * sending it traffic) but goes on serving.
   */
  begin?: () => void;
  /**
   * How long it goes on serving, unready, before the steps: the time endpoint controllers, proxies
   * and load balancers take to stop routing to it. Part of `timeoutMs`.
   */
  delayMs?: number;
}

/**
 * On SIGTERM or SIGINT: `begin`, the drain delay, then the steps, all within `timeoutMs`, then
 * exits: 0 when all finished, 1 when one failed or overran. A repeated signal does not start a
 * second run. `shutdown` starts it from code.
 */
export function gracefulShutdown(options: GracefulShutdownOptions): {
  shutdown: (reason: string) => Promise<void>;
} {
  const { logger, begin, delayMs = 0, timeoutMs = 10_000 } = options;
  if (delayMs >= timeoutMs) {
    throw new Error(
      `The drain delay (${delayMs} ms) must be shorter than the shutdown budget (${timeoutMs} ms)`,
    );
  }
  let running: Promise<void> | undefined;
  function shutdown(reason: string): Promise<void> {
    if (running) {
      logger.info({ reason }, "already shutting down");
      return running;
    }
    const started = Date.now();
    logger.info({ reason, delayMs, timeoutMs }, "shutting down");
    begin?.();
    running = sleep(delayMs)
      .then(() => runShutdownSteps({ ...options, timeoutMs: timeoutMs - (Date.now() - started) }))
      .then((clean) => {
        logger.info({ clean, ms: Date.now() - started }, "shut down");
        process.exit(clean ? 0 : 1);
      });
    return running;
  }
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => void shutdown(signal));
  }
  return { shutdown };
}
