// `ticketing-infra up -- command` starts the servers with state in .data/, hands their URLs
// to the command, and stops them all when it ends.
import { spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { connect } from "node:net";
import { cachedBinary, loadEnv } from "@ticketing/infra";
import { afterAll, expect, it } from "vitest";

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.on("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(command, args, { cwd, env });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

async function processesUsing(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(dir)) found.push(cmdline.replaceAll("\0", " "));
  }
  return found;
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

it("runs a command against freshly started servers and stops them after", async () => {
  const project = await mkdtemp(join(tmpdir(), "ticketing-infra-cli-"));
  dirs.push(project);
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "scratch", workspaces: [] }));
  const env = { ...process.env };
  for (const name of ["MONGO_URL", "NATS_URL", "REDIS_URL", "STRIPE_SECRET_KEY", "STRIPE_MOCK_URL"]) {
    delete env[name];
  }

  const print =
    "console.log('URLS=' + JSON.stringify([process.env.MONGO_URL, process.env.NATS_URL, process.env.REDIS_URL, process.env.STRIPE_MOCK_URL]))";
  const { code, output } = await run(
    "ticketing-infra",
    ["up", "--", process.execPath, "-e", print],
    project,
    env,
  );

  expect(code, output).toBe(0);
  const line = output.split("\n").find((l) => l.startsWith("URLS="));
  const [mongo, nats, redis, stripe] = JSON.parse(line?.slice(5) ?? "[]") as string[];
  expect(mongo).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/$/);
  // The command connects as the harness user: the embedded NATS lets no one in without a user.
  expect(nats).toMatch(/^nats:\/\/harness:[\w-]+@127\.0\.0\.1:\d+$/);
  expect(redis).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
  expect(stripe).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect((await readdir(join(project, ".data"))).sort()).toEqual([
    "ferretdb",
    "nats",
    "redis",
    "stripe-mock",
  ]);
  for (const url of [mongo, nats, redis, stripe]) {
    expect(await listening(Number(new URL(url ?? "").port)), `${url} still listening`).toBe(false);
  }
});

it("uses a server given by URL instead of starting one", async () => {
  const project = await mkdtemp(join(tmpdir(), "ticketing-infra-cli-"));
  dirs.push(project);
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "scratch", workspaces: [] }));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: "redis://127.0.0.1:1",
    STRIPE_SECRET_KEY: "sk_test_x",
  };
  delete env.MONGO_URL;
  delete env.NATS_URL;

  const print =
    "console.log('REDIS=' + process.env.REDIS_URL + ' STRIPE=' + (process.env.STRIPE_MOCK_URL ?? 'none'))";
  const { code, output } = await run(
    "ticketing-infra",
    ["up", "--", process.execPath, "-e", print],
    project,
    env,
  );

  expect(code, output).toBe(0);
  expect(output).toContain("REDIS=redis://127.0.0.1:1 STRIPE=none");
  expect((await readdir(join(project, ".data"))).sort()).toEqual(["ferretdb", "nats"]);
});

it("reports a server that cannot start, stops the others, and fails", async () => {
  const project = await mkdtemp(join(tmpdir(), "ticketing-infra-cli-"));
  dirs.push(project);
  await writeFile(join(project, "package.json"), JSON.stringify({ name: "scratch", workspaces: [] }));
  // A cache whose FerretDB is broken; stripe-mock is the real one.
  const cache = join(project, "cache");
  const ferretdb = cachedBinary("ferretdb", cache);
  await mkdir(dirname(ferretdb), { recursive: true });
  await writeFile(ferretdb, "#!/bin/sh\necho 'disk on fire' >&2\nexit 3\n");
  await chmod(ferretdb, 0o755);
  const stripeMock = cachedBinary("stripe-mock", cache);
  await mkdir(dirname(dirname(stripeMock)), { recursive: true });
  await symlink(dirname(cachedBinary("stripe-mock", loadEnv().cacheDir)), dirname(stripeMock));
  const env: NodeJS.ProcessEnv = { ...process.env, TICKETING_CACHE_DIR: cache };
  for (const name of ["MONGO_URL", "NATS_URL", "REDIS_URL", "STRIPE_SECRET_KEY", "STRIPE_MOCK_URL"])
    delete env[name];

  const { code, output } = await run(
    "ticketing-infra",
    ["up", "--", process.execPath, "-e", "console.log('RAN')"],
    project,
    env,
  );

  expect(code).toBe(1);
  expect(output).toContain("ferretdb exited");
  expect(output).toContain("disk on fire");
  expect(output).not.toContain("RAN");
  // The servers that did start were stopped again: no process still uses the project's .data.
  expect(await processesUsing(join(project, ".data"))).toEqual([]);
});
