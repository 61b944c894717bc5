import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { eventually, infra, natsUrlFor } from "@ticketing/testkit";
import { afterEach, expect, it } from "vitest";

const packageRoot = new URL("..", import.meta.url);
let child: ChildProcess | undefined;

afterEach(() => {
  if (child?.exitCode === null) child.kill("SIGKILL");
});

function start(env: Record<string, string>) {
  const { mongoUrl, redisUrl } = infra();
  child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: packageRoot,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      PORT: "0",
      MONGO_URL: mongoUrl,
      NATS_URL: natsUrlFor("auth"),
      REDIS_URL: redisUrl,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: child!.stdout! }).on("line", (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      lines.push(entry);
      if (entry.msg === "auth is listening") resolve(String(entry.url));
    });
    child!.once("exit", (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
  });
  // A child that exits before it listens rejects this before a test that expects it looks.
  listening.catch(() => undefined);
  return { child, lines, listening, stderr: () => stderr };
}

it(
  "starts, is ready with MongoDB and NATS, and shuts down cleanly on SIGTERM",
  { timeout: 60_000 },
  async () => {
    const run = start({ LOG_LEVEL: "info" });
    const url = new URL(await run.listening);
    const ready = await fetch(new URL("/readyz", url));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: "ready",
      checks: { mongo: "ok", nats: "ok", readModel: "ok" },
    });
    expect((await fetch(new URL("/.well-known/jwks.json", url))).status).toBe(200);

    const exited = once(run.child, "close");
    run.child.kill("SIGTERM");
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    const expected = [
      "stop taking requests",
      "stop the revocation watch",
      "stop the users read model",
      "flush the event logs",
      "close Redis",
      "close NATS",
      "close MongoDB",
      "flush the traces",
    ];
    const done = await eventually(
      () => run.lines.filter((line) => line.msg === "shutdown step done"),
      (lines) => lines.length >= expected.length,
    );
    expect(done.map((line) => line.step).sort()).toEqual([...expected].sort());
    // Lines can reach the pipe out of order, so the order is read from their timestamps.
    const times = expected.map((step) => Number(done.find((line) => line.step === step)?.time));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  },
);

it("refuses to start with a bad setting, naming it", async () => {
  const run = start({ SESSION_DAYS: "-1", TOKEN_TTL_SECONDS: "3600" });
  const [code] = (await once(run.child, "close")) as [number | null];
  expect(code).toBe(1);
  expect(run.stderr()).toContain("SESSION_DAYS");
  expect(run.stderr()).toContain("TOKEN_TTL_SECONDS");
  await expect(run.listening).rejects.toThrow();
});
