// How long the system took to converge after each fault: printed, and kept in
// test-results/convergence.json, so a run leaves the numbers behind and not just pass or fail.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Convergence {
  fault: string;
  /** From the end of the fault (the process or server started again) to the converged state; null: never. */
  convergedMs: number | null;
  /** Other measurements of the fault (readiness seen during it, expiry drift, …). */
  details?: Record<string, unknown>;
}

/** The bound on every recovery: from the end of a fault (a restart) to a converged system. */
export const CONVERGE_MS = 10_000;
/**
 * How long a test keeps watching after a fault, so that a recovery slower than the bound is
 * measured (and reported) rather than only failed.
 */
export const OBSERVE_MS = 40_000;

const file = join(import.meta.dirname, "..", "test-results", "convergence.json");
const measured: Convergence[] = [];

export function record(entry: Convergence): void {
  measured.push(entry);
  const took =
    entry.convergedMs === null
      ? "did not converge"
      : `converged in ${(entry.convergedMs / 1_000).toFixed(2)} s`;
  console.log(`[fault] ${entry.fault}: ${took}${entry.details ? ` ${JSON.stringify(entry.details)}` : ""}`);
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, `${JSON.stringify(measured, null, 2)}\n`);
}
