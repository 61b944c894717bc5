// The supervisor behind `npm start`: a service that exits is started again after a back-off that
// doubles up to a cap and starts over once the service stayed up; stopping sends SIGTERM and
// waits for every service.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { supervise } from "@ticketing/infra";
import { afterAll, expect, it } from "vitest";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function scratch(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "ticketing-supervise-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, ".."), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

function collect() {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Exits three times at once, then stays up past the reset time before exiting, then is killed
// by a signal, then stays up and takes a moment to stop on SIGTERM. A shell script, so that the
// quick exits stay quick on a busy machine.
const crashy = `
date +%s%3N >> starts
run=$(wc -l < starts)
echo "run $run"
case $run in
  1|2|3) exit 3 ;;
  4) sleep 3.2; exit 0 ;;
  5) kill -9 $$ ;;
  *) exec node stay.mjs ;;
esac
`;

const stay = `
import { appendFileSync } from "node:fs";
setInterval(() => {}, 1_000);
process.on("SIGTERM", () => setTimeout(() => { appendFileSync("stopped", "gracefully"); process.exit(0); }, 300));
console.log("ready");
`;

const steady = `
setInterval(() => {}, 1_000);
process.on("SIGTERM", () => process.exit(0));
console.log("up");
`;

it("restarts a service that exits with a doubling, capped back-off, reset after it stayed up, and stops every service", async () => {
  const dir = await scratch({ "crashy/main.sh": crashy, "crashy/stay.mjs": stay, "steady/main.mjs": steady });
  const out = collect();
  const messages: string[] = [];
  const supervisor = supervise({
    services: [
      { name: "crashy", command: "sh main.sh", cwd: join(dir, "crashy") },
      { name: "steady", command: "node main.mjs", cwd: join(dir, "steady") },
    ],
    env: process.env,
    backoff: { initialMs: 200, maxMs: 400, resetAfterMs: 3_000 },
    log: (message) => messages.push(message),
    stdout: out.stream,
    stderr: out.stream,
  });
  const steadyPid = supervisor.pids().steady;

  await until("the sixth start", () => out.text().includes("crashy: ready"));
  const exits = messages.filter((message) => message.startsWith("crashy ") && message.includes("restarting"));
  expect(exits).toEqual([
    expect.stringMatching(/^crashy exited with code 3 after .+; restarting in 200ms$/),
    expect.stringMatching(/^crashy exited with code 3 after .+; restarting in 400ms$/),
    expect.stringMatching(/^crashy exited with code 3 after .+; restarting in 400ms$/),
    expect.stringMatching(/^crashy exited with code 0 after .+; restarting in 200ms$/),
    expect.stringMatching(/^crashy was killed by SIGKILL after .+; restarting in 400ms$/),
  ]);
  const starts = (await readFile(join(dir, "crashy", "starts"), "utf8")).trim().split("\n").map(Number);
  const gaps = starts.slice(1).map((start, i) => start - (starts[i] ?? 0));
  for (const [i, least] of [200, 400, 400, 3_200 + 200, 400].entries()) {
    expect(gaps[i], `start ${i + 2} came too early`).toBeGreaterThanOrEqual(least);
  }
  // The other service went on undisturbed, its output prefixed with its name.
  expect(out.text()).toMatch(/^steady: up$/m);
  expect(supervisor.pids().steady).toBe(steadyPid);
  expect(messages.some((message) => message.startsWith("steady"))).toBe(false);

  const pids = Object.values(supervisor.pids());
  const stopping = Date.now();
  await supervisor.stop();
  expect(Date.now() - stopping).toBeGreaterThanOrEqual(300);
  expect(await readFile(join(dir, "crashy", "stopped"), "utf8")).toBe("gracefully");
  expect(messages).toContain("crashy stopped: exited with code 0");
  expect(messages).toContain("steady stopped: exited with code 0");
  expect(pids.filter(alive)).toEqual([]);
});

it("stops a service waiting for its restart, and kills one that ignores SIGTERM after the grace period", async () => {
  const dir = await scratch({
    "stubborn.mjs": `
import { writeFileSync } from "node:fs";
setInterval(() => {}, 1_000);
process.on("SIGTERM", () => console.log("not yet"));
writeFileSync("stubborn-up", "");
`,
  });
  const out = collect();
  const messages: string[] = [];
  const supervisor = supervise({
    services: [
      { name: "stubborn", command: "node stubborn.mjs", cwd: dir },
      // Fails only once the other one is up, so that stop() comes well before its restart is due.
      {
        name: "failing",
        command: "until [ -e stubborn-up ]; do sleep 0.05; done; echo started >> failing-starts; exit 1",
        cwd: dir,
      },
    ],
    env: process.env,
    backoff: { initialMs: 1_000, maxMs: 1_000, resetAfterMs: 60_000 },
    stopTimeoutMs: 500,
    log: (message) => messages.push(message),
    stdout: out.stream,
    stderr: out.stream,
  });
  await until("the failing service to exit", () => messages.length > 0);
  expect(messages).toEqual([
    expect.stringMatching(/^failing exited with code 1 after .+; restarting in 1s$/),
  ]);

  await supervisor.stop();
  expect(out.text()).toContain("stubborn: not yet");
  expect(messages).toContain("stubborn still running 500ms after SIGTERM; killing it");
  expect(messages).toContain("stubborn stopped: was killed by SIGKILL");
  // The restart it was waiting for never comes.
  await sleep(1_200);
  expect(await readFile(join(dir, "failing-starts"), "utf8")).toBe("started\n");
  expect(messages.filter((message) => message.startsWith("failing"))).toHaveLength(1);
});

it("`ticketing-infra up --supervise` runs every workspace's serve script with the services' environment", async () => {
  const service = `
setInterval(() => {}, 1_000);
process.on("SIGTERM", () => { console.log("draining"); setTimeout(() => process.exit(0), 200); });
console.log(JSON.stringify({ pid: process.pid, port: process.env.PORT ?? null, publicPort: process.env.PUBLIC_PORT, redis: process.env.REDIS_URL }));
`;
  const project = await scratch({
    "package.json": JSON.stringify({ name: "scratch", workspaces: ["apps/*", "lib"] }),
    "apps/api/package.json": JSON.stringify({ name: "@scratch/api", scripts: { serve: "node main.mjs" } }),
    "apps/api/main.mjs": service,
    "lib/package.json": JSON.stringify({ name: "@scratch/lib", scripts: { build: "true" } }),
  });
  // Every server given by URL: nothing to start but the services.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: "4555",
    MONGO_URL: "mongodb://127.0.0.1:1/",
    NATS_URL: "nats://127.0.0.1:1",
    REDIS_URL: "redis://127.0.0.1:1",
    STRIPE_SECRET_KEY: "sk_test_x",
  };
  const child = spawn("ticketing-infra", ["up", "--supervise"], { cwd: project, env });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const reports = () =>
    [...output.matchAll(/^api: (\{.*\})$/gm)].map(
      (match) => JSON.parse(match[1] ?? "{}") as { pid: number; port: string | null; publicPort: string },
    );

  try {
    await until("the service to start", () => reports().length === 1);
    const [first] = reports();
    expect(first).toMatchObject({ port: null, publicPort: "4555", redis: "redis://127.0.0.1:1" });
    process.kill(first?.pid ?? 0, "SIGKILL");
    await until("the restart", () => reports().length === 2);
    expect(output).toMatch(/\[infra\] api was killed by SIGKILL after .+; restarting in 1s/);

    child.kill("SIGINT");
    expect(await exited, output).toBe(0);
    expect(output).toContain("api: draining");
    expect(output).toContain("[infra] api stopped: exited with code 0");
    expect(alive(reports()[1]?.pid ?? 0)).toBe(false);
    // Only the workspace with a serve script is a service.
    expect(output).toContain("[infra] running api; Ctrl-C stops everything");
  } finally {
    child.kill("SIGKILL");
    for (const report of reports()) if (alive(report.pid)) process.kill(report.pid, "SIGKILL");
  }
});
