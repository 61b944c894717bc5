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
});
