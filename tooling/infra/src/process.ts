import { spawn } from "node:child_process";
import { open, readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const reaper = fileURLToPath(new URL("./reaper.mjs", import.meta.url));

/**
 * `command args` at the lowest CPU priority (`nice -n 19`): it takes only the CPU that the rest of
 * the machine leaves. The command and arguments to spawn.
 */
export function lowPriority(command: string, args: readonly string[]): [string, string[]] {
  return ["nice", ["-n", "19", command, ...args]];
}

export interface ManagedProcess {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  hasExited(): boolean;
  stop(): Promise<void>;
}

/**
 * Starts a server in its own process group (so a Ctrl-C reaches the services first and the
 * servers are stopped after them), with its output in `logFile`.
 */
export async function spawnManaged(
  name: string,
  command: string,
  args: string[],
  logFile: string,
): Promise<ManagedProcess> {
  const log = await open(logFile, "a");
  const child = spawn(process.execPath, [reaper, command, ...args], {
    stdio: ["pipe", log.fd, log.fd],
    detached: true,
  });
  await log.close();
  // The servers must not keep the starting process alive; the open stdin pipe still ties them to it.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  let ended = false;
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => {
      ended = true;
      resolve(code);
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const pid = child.pid;
  return {
    name,
    pid,
    logFile,
    exited,
    hasExited: () => ended,
    async stop() {
      if (ended) return;
      // Wait for it: the exit of an unreferenced child would not keep this process alive.
      child.ref();
      child.stdin?.end();
      const done = await Promise.race([exited.then(() => true), sleep(15_000, false, { ref: false })]);
      if (!done) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // already gone
        }
        await exited;
      }
    },
  };
}

export async function logTail(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
