// vitest globalSetup: a private FerretDB, NATS JetStream, Redis and stripe-mock on free ports with
// throw-away data folders, for one test run. Tests read their URLs with `infra()` from
// "@ticketing/testkit". Everything is stopped and removed afterwards, also when tests fail;
// servers of a run that was killed stop by themselves, and its folder is removed by the next run.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { loadEnv, startStack } from "@ticketing/infra";
import "./provided.js";

const PREFIX = "ticketing-test-";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function removeAbandonedRuns() {
  const entries = await readdir(tmpdir()).catch(() => []);
  for (const entry of entries.filter((name) => name.startsWith(PREFIX))) {
    const dir = join(tmpdir(), entry);
    const owner = Number(await readFile(join(dir, "owner.pid"), "utf8").catch(() => "0"));
    if (owner > 0 && !alive(owner)) await rm(dir, { recursive: true, force: true });
  }
}

export default async function setup(project: TestProject) {
  await removeAbandonedRuns();
  const dir = await mkdtemp(join(tmpdir(), PREFIX));
  await writeFile(join(dir, "owner.pid"), String(process.pid));
  const base = loadEnv();
  // Tests never use the developer's servers: only an explicit TEST_MONGO_URL replaces one.
  const env = {
    ...base,
    stripeLive: false,
    external: {
      mongoUrl: base.testMongoUrl,
      natsUrl: undefined,
      redisUrl: undefined,
      stripeMockUrl: undefined,
    },
  };
  // NATS has the services' users, as `npm start`'s does; a connection without credentials is the
  // harness (tests play the other services), a service under test connects with natsUrlFor().
  const stack = await startStack({ dataDir: dir, env, natsAnonymousHarness: true });
  project.provide("infra", stack.urls);
  return async () => {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
