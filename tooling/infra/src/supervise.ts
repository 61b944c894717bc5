// Keeps the services running the way Kubernetes keeps a pod's containers running, so that one
// crashing under `npm start` is a restart to watch, not the whole system going down.
import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";

export interface ServiceSpec {
  /** Prefixes its output and names it in the supervisor's messages. */
  name: string;
  /** A shell command, run the way npm runs a script. */
  command: string;
  cwd: string;
  /** Variables of this service alone, on top of the supervisor's `env` (its NATS credentials). */
  env?: NodeJS.ProcessEnv;
}

export interface Backoff {
  /** The wait before the first restart; it doubles with each exit after that. */
  initialMs: number;
  maxMs: number;
  /** A service that stayed up this long has recovered: its next restart waits initialMs again. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 };

export interface SuperviseOptions {
  services: ServiceSpec[];
  env: NodeJS.ProcessEnv;
  backoff?: Backoff;
  /**
   * How long a service may take over SIGTERM before it is killed; Kubernetes' default grace period,
   * above the services' own shutdown budget (SHUTDOWN_TIMEOUT_MS, 25 s by default).
   */
  stopTimeoutMs?: number;
  log: (message: string) => void;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

export interface Supervisor {
  /** SIGTERM to every service; resolves once all of them have ended. */
  stop(): Promise<void>;
  /** The process id of each service running now. */
  pids(): Record<string, number>;
}

interface Slot {
  spec: ServiceSpec;
  prefix: string;
  child: ChildProcess | undefined;
  /** Resolves when the current process has ended and its output is drained. */
  closed: Promise<void>;
  startedAt: number;
  nextDelayMs: number;
  restarts: number;
  timer: NodeJS.Timeout | undefined;
}

/** Starts every service at once and restarts each one that exits until `stop()`. */
export function supervise(options: SuperviseOptions): Supervisor {
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const { log } = options;
  const width = Math.max(...options.services.map((service) => service.name.length));
  let stopping: Promise<void> | undefined;

  const slots: Slot[] = options.services.map((spec) => ({
    spec,
    prefix: `${spec.name}:`.padEnd(width + 2),
    child: undefined,
    closed: Promise.resolve(),
    startedAt: 0,
    nextDelayMs: backoff.initialMs,
    restarts: 0,
    timer: undefined,
  }));

  const prefixed = (slot: Slot, from: Readable | null, to: NodeJS.WritableStream) => {
    if (!from) return;
    createInterface({ input: from, crlfDelay: Infinity }).on("line", (line) => {
      to.write(`${slot.prefix}${line}\n`);
    });
  };

  const start = (slot: Slot) => {
    // Each service gets its own process group: a Ctrl-C in the terminal reaches only this
    // process, which then stops the services one signal each, and a signal to the group also
    // reaches whatever the service's shell started.
    const child = spawn(shellCommand(slot.spec.command), {
      shell: true,
      cwd: slot.spec.cwd,
      env: withPackageBins({ ...options.env, ...slot.spec.env }, slot.spec.cwd),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    slot.child = child;
    slot.startedAt = Date.now();
    prefixed(slot, child.stdout, stdout);
    prefixed(slot, child.stderr, stderr);
    child.on("error", (error) => log(`${slot.spec.name}: cannot start: ${error.message}`));
    child.on("exit", () => {
      // Like a container whose main process ended: nothing it left behind keeps running.
      if (!stopping && child.pid !== undefined) signalGroup(child.pid, "SIGKILL");
    });
    slot.closed = new Promise((resolve) => {
      child.on("close", (code, signal) => {
        slot.child = undefined;
        resolve();
        const ranMs = Date.now() - slot.startedAt;
        if (stopping) {
          log(`${slot.spec.name} stopped: ${describeExit(code, signal)}`);
          return;
        }
        if (ranMs >= backoff.resetAfterMs) slot.nextDelayMs = backoff.initialMs;
        const delayMs = slot.nextDelayMs;
        slot.nextDelayMs = Math.min(delayMs * 2, backoff.maxMs);
        log(
          `${slot.spec.name} ${describeExit(code, signal)} after ${duration(ranMs)}; restarting in ${duration(delayMs)}`,
        );
        slot.timer = setTimeout(() => {
          slot.timer = undefined;
          slot.restarts += 1;
          start(slot);
          log(`${slot.spec.name} restarted (restart ${slot.restarts}, pid ${slot.child?.pid ?? "none"})`);
        }, delayMs);
      });
    });
  };

  // The services are in process groups of their own, so nothing else ends them should this
  // process exit without stop() (an uncaught error, process.exit).
  const killAll = () => {
    for (const slot of slots) if (slot.child?.pid !== undefined) signalGroup(slot.child.pid, "SIGKILL");
  };
  process.on("exit", killAll);

  for (const slot of slots) start(slot);

  return {
    pids: () =>
      Object.fromEntries(
        slots.flatMap((slot) => (slot.child?.pid === undefined ? [] : [[slot.spec.name, slot.child.pid]])),
      ),
    stop() {
      stopping ??= Promise.all(
        slots.map(async (slot) => {
          clearTimeout(slot.timer);
          const pid = slot.child?.pid;
          if (pid === undefined) return;
          signalGroup(pid, "SIGTERM");
          const kill = setTimeout(() => {
            log(`${slot.spec.name} still running ${duration(stopTimeoutMs)} after SIGTERM; killing it`);
            signalGroup(pid, "SIGKILL");
          }, stopTimeoutMs);
          // Waiting for the output to close rather than for the exit also waits for whatever a
          // shell command started: SIGTERM ends a non-interactive shell at once.
          await slot.closed;
          clearTimeout(kill);
        }),
      ).then(() => {
        process.off("exit", killAll);
      });
      return stopping;
    },
  };
}

// Words only, the first not an assignment: nothing the shell has to stay around for.
const plainCommand = /^[\w@%+:,./-]+(\s+[\w@%+=:,./-]+)*$/;

/**
 * A plain command replaces its shell, so the service itself is the process that gets the
 * signals and whose exit is reported; anything else runs as npm would run it.
 */
function shellCommand(command: string): string {
  return plainCommand.test(command.trim()) ? `exec ${command.trim()}` : command;
}

function signalGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is already empty
  }
}

/** What `npm run` puts first on PATH, so a serve script can call the packages' own binaries. */
function withPackageBins(env: NodeJS.ProcessEnv, cwd: string): NodeJS.ProcessEnv {
  const bins: string[] = [];
  for (let dir = cwd; ; dir = dirname(dir)) {
    bins.push(join(dir, "node_modules", ".bin"));
    if (dirname(dir) === dir) break;
  }
  return { ...env, PATH: [...bins, env.PATH ?? ""].join(delimiter) };
}

const signalNames = new Map<number, string>(
  Object.entries(constants.signals).map(([name, number]) => [number, name]),
);

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `was killed by ${signal}`;
  // The shell reports a command killed by signal N as exit code 128 + N.
  const byShell = code !== null && code > 128 ? signalNames.get(code - 128) : undefined;
  return `exited with code ${code ?? "unknown"}${byShell ? ` (${byShell})` : ""}`;
}

function duration(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  if (ms < 60_000) return `${Number((ms / 1_000).toFixed(1))}s`;
  return `${Math.floor(ms / 60_000)}m${Math.floor((ms % 60_000) / 1_000)}s`;
}
