import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort, serviceEnv, type InfraUrls } from "@ticketing/infra";

const root = fileURLToPath(new URL("../..", import.meta.url));

export interface RunningServices {
  /** The public origin, e.g. http://127.0.0.1:40123 */
  origin: string;
  urls: Record<string, string>;
  /** Process ids by service name. */
  pids: Record<string, number>;
  stop(): Promise<void>;
}

/**
 * Runs the gateway and the given subgraphs from their built `dist/` as separate processes, as
 * `npm start` does, on free ports and the given private servers, each with its own event loop.
 */
export async function startServices(
  infra: InfraUrls,
  subgraphs: string[],
  extraEnv: Record<string, string> = {},
): Promise<RunningServices> {
  const ports = Object.fromEntries(
    await Promise.all(["gateway", ...subgraphs].map(async (name) => [name, await freePort()] as const)),
  );
  const urls = Object.fromEntries(
    Object.entries(ports).map(([name, port]) => [name, `http://127.0.0.1:${port}`]),
  );
  const shared: Record<string, string> = {
    ...serviceEnv(infra),
    LOG_LEVEL: "warn",
    NODE_ENV: "production",
    DEMO_CATALOG: "off",
    DEMO_ACCOUNTS: "off",
    // Every benchmark client comes from one address: the per-address limit would measure itself.
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: "100000000",
    // The gateway's metrics on any free port: a running `npm start` holds the default one.
    METRICS_PORT: "0",
    AUTH_URL: urls.auth!,
    AUTH_JWKS_URL: `${urls.auth}/.well-known/jwks.json`,
    ...Object.fromEntries(
      subgraphs.map((name) => [`SUBGRAPH_${name.toUpperCase()}_URL`, `${urls[name]}/graphql`]),
    ),
    ...extraEnv,
  };
  const children: ChildProcess[] = [];
  const pids: Record<string, number> = {};
  // BENCH_CPU_PROF_DIR=<dir>: each service writes a V8 CPU profile into <dir>/<name> as it exits.
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  const start = (name: string, workspace: string) => {
    const profile = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}/${name}`] : [];
    // As the images run them (`node dist/main.js`): no source maps, whose stack traces cost CPU.
    const child = spawn(process.execPath, [...profile, "dist/main.js"], {
      cwd: `${root}/${workspace}`,
      // Each service connects to NATS as its own user.
      env: {
        ...process.env,
        ...shared,
        NATS_URL: serviceEnv(infra, name).NATS_URL,
        PORT: String(ports[name]),
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    children.push(child);
    if (child.pid !== undefined) pids[name] = child.pid;
  };
  // A benchmark stopped with Ctrl-C or a timeout takes its services along.
  const killAll = () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  };
  process.once("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
          }),
      ),
    );
  };
  try {
    for (const name of subgraphs) {
      start(name, `subgraphs/${name}`);
      await ready(urls[name]!, children.at(-1)!);
    }
    start("gateway", "gateway");
    await ready(urls.gateway!, children.at(-1)!);
  } catch (error) {
    await stop();
    throw error;
  }
  return { origin: urls.gateway!, urls, pids, stop };
}

async function ready(origin: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${origin}: the service exited (${child.exitCode})`);
    const ok = await fetch(`${origin}/readyz`)
      .then((response) => response.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${origin} was not ready within ${timeoutMs / 1000} s`);
}
