// ticketing-infra: installs and runs the local infrastructure.
//   ticketing-infra install          build or install the servers that are missing
//   ticketing-infra up [-- cmd …]    start them with state in .data/, run cmd with their URLs, stop on Ctrl-C
//   ticketing-infra up --supervise   the same, running every workspace's `serve` script and restarting
//                                    each one that exits (what `npm start` runs)
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ensureBinaries } from "./binaries.js";
import { deployables } from "./deployables.js";
import { inheritedEnv, loadEnv } from "./env.js";
import { neededBinaries, serviceEnv, startStack } from "./stack.js";
import { supervise } from "./supervise.js";

const DEFAULT_PORTS = { ferretdb: 27027, "nats-server": 4322, "redis-server": 6479, "stripe-mock": 12111 };

function repoRoot(from: string): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && "workspaces" in (JSON.parse(readFileSync(manifest, "utf8")) as object)) {
      return dir;
    }
    if (dirname(dir) === dir) return resolve(from);
  }
}

const log = (message: string) => console.log(`[infra] ${message}`);

async function install() {
  const env = loadEnv();
  const found = await ensureBinaries(neededBinaries(env), { cacheDir: env.cacheDir, path: env.path, log });
  for (const [name, location] of Object.entries(found)) log(`${name.padEnd(13)} ${location}`);
}

type Run = { supervise: true } | { supervise: false; command: string[] };

async function up(run: Run) {
  const env = loadEnv();
  const root = repoRoot(process.cwd());
  const services = run.supervise ? deployables(root) : [];
  if (run.supervise && services.length === 0) throw new Error(`no workspace of ${root} has a serve script`);
  const dataDir = join(root, ".data");
  const stack = await startStack({ dataDir, env, preferredPorts: DEFAULT_PORTS, log });
  const vars = serviceEnv(stack.urls);
  log(`state in ${dataDir}`);
  // The services of --supervise get a NATS user each; a command, or a shell that exports these,
  // the harness's credentials.
  const shown = run.supervise ? { ...vars, NATS_URL: stack.urls.natsUrl } : vars;
  for (const [name, value] of Object.entries(shown)) {
    const own = stack.servers.some((server) => server.url === value.replace(/^(\w+:\/\/)[^@/]*@/, "$1"));
    log(`${name.padEnd(15)} ${value}${own ? "" : "  (yours)"}`);
  }
  if (stack.urls.natsPasswords) {
    const who = run.supervise
      ? "each service connects as its own"
      : "NATS_URL is the harness's, with every right";
    log(`NATS users      one per service, random passwords for this run; ${who}`);
  }
  if (env.stripeLive) log("STRIPE_SECRET_KEY is set: payments use real Stripe");

  let stopping = false;
  const shutdown = async (code: number) => {
    log("stopping the infrastructure…");
    await stack.stop();
    process.exit(code);
  };
  for (const server of stack.servers) {
    void server.process.exited.then((code) => {
      if (!stopping) log(`${server.name} exited unexpectedly (${code}); its log: ${server.process.logFile}`);
    });
  }

  if (run.supervise) {
    // Each service connects to NATS as its own user.
    const own = services.map((service) => ({
      ...service,
      env: { NATS_URL: serviceEnv(stack.urls, service.name).NATS_URL },
    }));
    const supervisor = supervise({
      services: own,
      env: inheritedEnv({ ...vars, NATS_URL: stack.urls.natsUrl }),
      log,
    });
    log(`running ${services.map((service) => service.name).join(", ")}; Ctrl-C stops everything`);
    const stop = () => {
      if (stopping) return;
      stopping = true;
      log("stopping the services…");
      void supervisor.stop().then(() => shutdown(0));
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    return;
  }

  const { command } = run;
  if (command.length === 0) {
    log("running; Ctrl-C stops everything");
    const stop = () => {
      if (stopping) return;
      stopping = true;
      void shutdown(0);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    return;
  }

  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, { stdio: "inherit", env: inheritedEnv(vars) });
  const forward = (signal: NodeJS.Signals) => () => {
    stopping = true;
    if (child.exitCode === null) child.kill(signal);
  };
  process.on("SIGINT", forward("SIGINT"));
  process.on("SIGTERM", forward("SIGTERM"));
  child.on("error", (error) => {
    log(`cannot run ${file}: ${error.message}`);
    stopping = true;
    void shutdown(1);
  });
  child.on("exit", (code, signal) => {
    const interrupted = stopping && (signal !== null || code === 130 || code === 143);
    stopping = true;
    void shutdown(interrupted ? 0 : (code ?? 1));
  });
}

async function main(argv: string[]) {
  const [verb, ...rest] = argv;
  if (verb === "install") return install();
  if (verb === "up" && rest[0] === "--supervise" && rest.length === 1) return up({ supervise: true });
  if (verb === "up" && rest[0] !== "--supervise") {
    return up({ supervise: false, command: rest[0] === "--" ? rest.slice(1) : rest });
  }
  console.error("usage: ticketing-infra install | up [--supervise | -- command …]");
  process.exitCode = 2;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`[infra] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
