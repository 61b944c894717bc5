// Infrastructure servers one test file owns outright, for tests that crash them: unlike the
// package-wide servers of the globalSetup (shared by every test of a run), these can be killed
// and started again, each on its own port and its own data folder, as a supervisor or Kubernetes
// would restart a crashed server.
import { connect } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ensureBinaries,
  freePort,
  loadEnv,
  natsAuthConfig,
  randomNatsPasswords,
  startFerretDb,
  startNats,
  startRedis,
  startStripeMock,
  type InfraUrls,
  type RunningServer,
} from "@ticketing/infra";

export const INFRA_SERVERS = ["ferretdb", "nats", "redis", "stripe-mock"] as const;
export type InfraServerName = (typeof INFRA_SERVERS)[number];

export interface InfraServers {
  urls: InfraUrls;
  /** Whether the server is running (started by this harness and not killed since). */
  isRunning(name: InfraServerName): boolean;
  /** `kill -9` of the server: no shutdown, no last flush. Resolves once its port is closed. */
  kill(name: InfraServerName): Promise<void>;
  /** Starts the server again on its port and data folder; resolves once it answers. */
  start(name: InfraServerName): Promise<void>;
  /** Stops every running server (SIGTERM, as at the end of any test run). */
  stop(): Promise<void>;
}

const BINARY = {
  ferretdb: "ferretdb",
  nats: "nats-server",
  redis: "redis-server",
  "stripe-mock": "stripe-mock",
} as const;

const STARTERS = {
  ferretdb: startFerretDb,
  nats: startNats,
  redis: startRedis,
  "stripe-mock": startStripeMock,
} as const;

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Starts FerretDB, NATS JetStream, Redis (append-only) and stripe-mock under `dir`. They always
 * run here, whatever MONGO_URL or TEST_MONGO_URL say: a test cannot crash a server it does not own.
 */
export async function startInfraServers({ dir }: { dir: string }): Promise<InfraServers> {
  const env = loadEnv();
  const binaries = await ensureBinaries(Object.values(BINARY), { cacheDir: env.cacheDir, path: env.path });
  const ports = Object.fromEntries(
    await Promise.all(INFRA_SERVERS.map(async (name) => [name, await freePort()] as const)),
  ) as Record<InfraServerName, number>;
  const running = new Map<InfraServerName, RunningServer>();
  // The users of `npm start`'s NATS, the same passwords across restarts; no credentials: the harness.
  const natsPasswords = randomNatsPasswords();
  const natsConfig = natsAuthConfig({ passwords: natsPasswords, anonymousHarness: true });

  async function start(name: InfraServerName): Promise<void> {
    if (running.has(name)) throw new Error(`${name} is already running`);
    const server = await STARTERS[name]({
      binary: binaries[BINARY[name]],
      dir: join(dir, name),
      port: ports[name],
      ...(name === "nats" && { config: natsConfig }),
    });
    running.set(name, server);
  }

  async function kill(name: InfraServerName): Promise<void> {
    const server = running.get(name);
    if (!server) throw new Error(`${name} is not running`);
    running.delete(name);
    // The server runs under a small watcher in a process group of its own: kill both at once, so
    // nothing is left to shut the server down politely.
    try {
      process.kill(-server.process.pid, "SIGKILL");
    } catch {
      // already gone
    }
    await server.process.exited;
    for (let attempt = 0; attempt < 100 && (await portOpen(ports[name])); attempt++) await sleep(50);
  }

  const stop = async () => {
    const servers = [...running.values()];
    running.clear();
    await Promise.all(servers.map((server) => server.stop()));
  };

  try {
    await Promise.all(INFRA_SERVERS.map(start));
  } catch (error) {
    await stop();
    throw error;
  }
  const url = (name: InfraServerName) => {
    const server = running.get(name);
    if (!server) throw new Error(`${name} did not start`);
    return server.url;
  };
  return {
    urls: {
      mongoUrl: url("ferretdb"),
      natsUrl: url("nats"),
      redisUrl: url("redis"),
      stripeMockUrl: url("stripe-mock"),
      natsPasswords,
    },
    isRunning: (name) => running.has(name),
    kill,
    start,
    stop,
  };
}
