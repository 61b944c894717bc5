import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runShutdownSteps } from "../src/index.js";
import { capturingLogger } from "./support.js";

const CHILD = fileURLToPath(new URL("./fixtures/shutdown-child.ts", import.meta.url));

/** Starts the child, sends it `signals` once it is ready, and collects its output and exit code. */
function runChild(
  args: string[],
  signals: NodeJS.Signals[],
): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      const wasReady = output.includes("ready\n");
      output += chunk.toString();
      if (!wasReady && output.includes("ready\n")) for (const signal of signals) child.kill(signal);
    });
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, lines: output.trim().split("\n") }));
  });
}

describe("gracefulShutdown", () => {
  it("runs the steps once, in order, on SIGTERM, even when a second signal arrives, and exits 0", async () => {
    const { code, lines } = await runChild([], ["SIGTERM", "SIGINT"]);
    expect(lines).toEqual(["ready", "step:http", "step:consumers", "step:outbox", "step:connections"]);
    expect(code).toBe(0);
  });

  it("reports the start at once, serves on for the drain delay, then runs the steps in what remains", async () => {
    const { code, lines } = await runChild(["--delay"], ["SIGTERM"]);
    expect(lines.slice(0, 2)).toEqual(["ready", "begin"]);
    const [, after, left] = /^step:http after (\d+) ms, (\d+) ms left$/.exec(lines[2] ?? "") ?? [];
    expect(Number(after)).toBeGreaterThanOrEqual(400);
    // The 800 ms budget less the delay, less a reserve for each of the three later steps.
    expect(Number(left)).toBeLessThanOrEqual(400);
    expect(Number(left)).toBeGreaterThan(200);
    expect(lines.slice(3)).toEqual(["step:consumers", "step:outbox", "step:connections"]);
    expect(code).toBe(0);
  });

  it("abandons a step that overruns its timeout, runs the rest, and exits 1", async () => {
    const { code, lines } = await runChild(["--hang"], ["SIGINT"]);
    expect(lines).toEqual(["ready", "step:http", "step:consumers", "step:connections"]);
    expect(code).toBe(1);
  });
});

describe("runShutdownSteps", () => {
  it("carries on past a failing step and reports that it was not clean", async () => {
    const { logger, lines } = capturingLogger();
    const ran: string[] = [];
    const clean = await runShutdownSteps({
      logger,
      timeoutMs: 1_000,
      steps: [
        { name: "first", run: () => void ran.push("first") },
        {
          name: "failing",
          run: () => {
            throw new Error("cannot flush");
          },
        },
        { name: "last", run: () => void ran.push("last") },
      ],
    });
    expect(clean).toBe(false);
    expect(ran).toEqual(["first", "last"]);
    expect(lines().find((line) => line.msg === "shutdown step failed")).toMatchObject({ step: "failing" });
  });

  it("bounds every step by what remains of one budget, keeping a reserve for those after it", async () => {
    const { logger } = capturingLogger();
    const given: Record<string, number> = {};
    const ran: string[] = [];
    const started = Date.now();
    const clean = await runShutdownSteps({
      logger,
      timeoutMs: 600,
      steps: [
        {
          name: "hangs",
          run: (timeoutMs) => {
            given.hangs = timeoutMs;
            return new Promise<void>(() => undefined);
          },
        },
        { name: "second", run: (timeoutMs) => void ((given.second = timeoutMs), ran.push("second")) },
        { name: "third", run: (timeoutMs) => void ((given.third = timeoutMs), ran.push("third")) },
      ],
    });
    const took = Date.now() - started;
    expect(clean).toBe(false);
    expect(ran).toEqual(["second", "third"]);
    // 600 ms for all three: the hanging step had all but two reserves of 100 ms, and the whole
    // shutdown stayed within the budget instead of a fixed timeout per step.
    expect(given.hangs).toBeLessThanOrEqual(400);
    expect(given.hangs).toBeGreaterThan(350);
    // Its reserve, less however late the hanging step's timer fired on a busy machine.
    expect(given.second).toBeGreaterThanOrEqual(50);
    expect(took).toBeLessThan(600 + 100);
  });
});
