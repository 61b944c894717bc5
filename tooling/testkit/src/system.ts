// The whole system as `npm start` runs it: every deployable from its built dist/main.js, each its
// own process, on free ports, against the servers a test gives it. A test can kill -9 any one
// service and start it again on the same port, as a supervisor would after a crash.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, closeSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { freePort, natsUrlFor, serviceEnv, type InfraUrls } from "@ticketing/infra";
import { startServiceProxy, type ServiceProxy } from "./service-proxy.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));

/**
 * Every deployable. They start together, as on Kubernetes: none waits for another to be ready (the
 * keys auth serves are fetched when a token is first verified).
 */
export const SERVICES = ["auth", "tickets", "orders", "payments", "passes", "expiration", "gateway"] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface SystemOptions {
  /** The servers the services use (MONGO_URL, NATS_URL, REDIS_URL, STRIPE_MOCK_URL). */
  infra: InfraUrls;
  /** Settings for every service (ORDER_HOLD_SECONDS, OPS_EMAILS, …); LOG_LEVEL is warn unless set. */
  env?: Record<string, string>;
  /** A folder for each service's output (`<name>.log`); absent: the services write to the test's output. */
  logDir?: string;
  /** How long a service may take to answer /readyz at start. */
  readyTimeoutMs?: number;
  /**
   * Each service behind a Service of its own, as on Kubernetes (service-proxy.ts): its port is a
   * proxy that hands new connections to its ready instances, each on a port of its own, and
   * `roll` replaces the instances the way a rolling update does. Without it, one process per
   * service listens on the service's port.
   */
  rolling?: {
    /** Instances of the gateway (a Deployment's replicas); one of every other service. */
    gatewayReplicas?: number;
    /**
     * How long after a rolled instance gets SIGTERM its Service still sends it new connections:
     * endpoints, kube-proxy and ingress controllers hear of a terminating pod late.
     */
    endpointLagMs?: number;
  };
}

export interface ServiceExit {
  name: ServiceName;
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export interface System {
  /** The public origin: the gateway. */
  origin: string;
  /** Where a service listens, e.g. http://127.0.0.1:41234 (its /graphql, /healthz, /readyz). */
  url(name: ServiceName): string;
  /** Whether the service's /readyz answers 200 now (within `timeoutMs`). */
  ready(name: ServiceName, timeoutMs?: number): Promise<boolean>;
  /** `kill -9` of the service; resolves once the process is gone. */
  kill(name: ServiceName): Promise<void>;
  /**
   * Starts the service again on its port, with `env` on top of the system's settings; resolves
   * once its /readyz answers 200.
   */
  start(name: ServiceName, env?: Record<string, string>): Promise<void>;
  /** Stops the service (SIGTERM, as a rollout would) and starts it again with `env` on top. */
  restart(name: ServiceName, env?: Record<string, string>): Promise<void>;
  /**
   * A rolling update (needs `rolling`), one instance at a time with a surge of one: a new instance
   * with `env` on top, added to the Service once its /readyz answers 200; then the old one gets
   * SIGTERM and leaves the Service's endpoints `endpointLagMs` later. Resolves once the new
   * instances serve; `exited` once the old ones have ended, with their exit codes.
   */
  roll(name: ServiceName, env?: Record<string, string>): Promise<{ exited: Promise<(number | null)[]> }>;
  /** Whether the service's process is running. */
  isRunning(name: ServiceName): boolean;
  /** Services that exited without being told to (not killed or stopped by the test). */
  unexpectedExits(): ServiceExit[];
  stop(): Promise<void>;
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

async function probe(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

export async function startSystem({
  infra,
  env = {},
  logDir,
  readyTimeoutMs = 90_000,
  rolling,
}: SystemOptions): Promise<System> {
  const ports = Object.fromEntries(
    await Promise.all(SERVICES.map(async (name) => [name, await freePort()] as const)),
  ) as Record<ServiceName, number>;
  const url = (name: ServiceName) => `http://127.0.0.1:${ports[name]}`;
  const subgraphs = SERVICES.filter((name) => name !== "gateway" && name !== "expiration");
  const shared: Record<string, string> = {
    ...serviceEnv(infra),
    LOG_LEVEL: "warn",
    AUTH_URL: url("auth"),
    AUTH_JWKS_URL: `${url("auth")}/.well-known/jwks.json`,
    PAYMENTS_WEBHOOK_URL: `${url("payments")}/webhooks/stripe`,
    STRIPE_SANDBOX_WEBHOOK_URL: `${url("gateway")}/webhooks/stripe`,
    PUBLIC_ORIGIN: url("gateway"),
    ...Object.fromEntries(
      subgraphs.map((name) => [`SUBGRAPH_${name.toUpperCase()}_URL`, `${url(name)}/graphql`]),
    ),
    // The gateway's metrics port: any free one, since replicas run side by side.
    METRICS_PORT: "0",
    ...env,
  };
  // Each service connects to NATS as its own user, unless the test's `env` says otherwise.
  const natsEnv = (name: ServiceName) =>
    env.NATS_URL === undefined ? { NATS_URL: natsUrlFor(infra, name) } : {};
  if (logDir) mkdirSync(logDir, { recursive: true });

  const children = new Map<ServiceName, ChildProcess>();
  const expected = new WeakSet<ChildProcess>();
  const exits: ServiceExit[] = [];
  // A test run that ends without stopping the system (a failed hook, an uncaught error) still
  // takes its services with it.
  const orphans = () => {
    const rolled = [...instances.values()].flat().map((instance) => instance.child);
    for (const child of [...children.values(), ...rolled]) if (!exited(child)) child.kill("SIGKILL");
  };
  process.once("exit", orphans);

  function spawnService(name: ServiceName, extra: Record<string, string>, port = ports[name]): ChildProcess {
    const dir = name === "gateway" ? "gateway" : `subgraphs/${name}`;
    const log = logDir ? openSync(join(logDir, `${name}.log`), "a") : undefined;
    // As the images run them (`node dist/main.js`): source maps cost each service most of a
    // second of CPU at start, seven at once on a system's start.
    const child = spawn(process.execPath, ["dist/main.js"], {
      cwd: join(root, dir),
      env: { ...process.env, ...shared, ...natsEnv(name), ...extra, PORT: String(port) },
      stdio: ["ignore", log ?? "inherit", log ?? "inherit"],
    });
    if (log !== undefined) closeSync(log);
    child.once("exit", (code, signal) => {
      if (!expected.has(child)) exits.push({ name, code, signal, at: Date.now() });
    });
    children.set(name, child);
    return child;
  }

  async function waitReady(name: ServiceName, child: ChildProcess, port = ports[name]): Promise<void> {
    const deadline = Date.now() + readyTimeoutMs;
    while (Date.now() < deadline) {
      if (exited(child))
        throw new Error(`${name} exited at start (code ${child.exitCode ?? child.signalCode})`);
      if (await probe(`http://127.0.0.1:${port}/readyz`, 2_000)) return;
      await sleep(100);
    }
    throw new Error(`${name} was not ready within ${readyTimeoutMs / 1_000} s`);
  }

  async function end(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
    expected.add(child);
    if (exited(child)) return;
    const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    if (signal === "SIGKILL") return gone;
    const stopped = await Promise.race([gone.then(() => true), sleep(15_000, false)]);
    if (!stopped) {
      child.kill("SIGKILL");
      await gone;
    }
  }

  // With `rolling`: each service's Service, and its instances, oldest first.
  const proxies = new Map<ServiceName, ServiceProxy>();
  const instances = new Map<ServiceName, { child: ChildProcess; port: number }[]>();

  /** A new instance on a port of its own, in the Service once ready. */
  async function addInstance(name: ServiceName, extra: Record<string, string>) {
    const port = await freePort();
    const child = spawnService(name, extra, port);
    const instance = { child, port };
    instances.set(name, [...(instances.get(name) ?? []), instance]);
    await waitReady(name, child, port);
    proxies.get(name)!.add(port);
    return instance;
  }

  async function roll(name: ServiceName, extra: Record<string, string> = {}) {
    const proxy = proxies.get(name);
    if (!proxy) throw new Error("roll needs a system started with `rolling`");
    const exits: Promise<number | null>[] = [];
    for (const old of [...(instances.get(name) ?? [])]) {
      await addInstance(name, extra);
      instances.set(
        name,
        instances.get(name)!.filter((instance) => instance !== old),
      );
      const gone = new Promise<number | null>((resolve) => {
        if (exited(old.child)) resolve(old.child.exitCode);
        else old.child.once("exit", (code) => resolve(code));
      });
      exits.push(gone);
      const lag = setTimeout(() => proxy.remove(old.port), rolling?.endpointLagMs ?? 0);
      void gone.then(() => {
        clearTimeout(lag);
        proxy.remove(old.port);
      });
      void end(old.child, "SIGTERM");
    }
    return { exited: Promise.all(exits) };
  }

  async function start(name: ServiceName, extra: Record<string, string> = {}): Promise<void> {
    if (rolling) throw new Error("a system started with `rolling` is rolled, not restarted");
    const current = children.get(name);
    if (current && !exited(current)) throw new Error(`${name} is running`);
    await waitReady(name, spawnService(name, extra));
  }

  async function kill(name: ServiceName): Promise<void> {
    const child = children.get(name);
    if (!child) throw new Error(`${name} was never started`);
    await end(child, "SIGKILL");
  }

  async function restart(name: ServiceName, extra: Record<string, string> = {}): Promise<void> {
    const child = children.get(name);
    if (child) await end(child, "SIGTERM");
    await start(name, extra);
  }

  const stop = async () => {
    process.off("exit", orphans);
    const all = new Set([...children.values(), ...[...instances.values()].flat().map((i) => i.child)]);
    await Promise.all([...all].map((child) => end(child, "SIGTERM")));
    await Promise.all([...proxies.values()].map((proxy) => proxy.close()));
  };

  try {
    if (rolling) {
      await Promise.all(
        SERVICES.map(async (name) => {
          proxies.set(name, await startServiceProxy(ports[name]));
          const replicas = name === "gateway" ? (rolling.gatewayReplicas ?? 1) : 1;
          for (let i = 0; i < replicas; i++) await addInstance(name, {});
        }),
      );
    } else {
      await Promise.all(SERVICES.map((name) => start(name)));
    }
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    origin: url("gateway"),
    url,
    ready: (name, timeoutMs = 3_000) => probe(`${url(name)}/readyz`, timeoutMs),
    kill,
    start,
    restart,
    roll,
    isRunning: (name) => {
      const child = children.get(name);
      return child !== undefined && !exited(child);
    },
    unexpectedExits: () => [...exits],
    stop,
  };
}
