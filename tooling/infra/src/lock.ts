// A lock between processes on one machine (two clones or test runs building the same binary).
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export async function withLock<T>(path: string, fn: () => Promise<T>): Promise<T> {
  const dir = `${path}.lock`;
  await mkdir(dirname(dir), { recursive: true });
  for (;;) {
    try {
      await mkdir(dir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(await readFile(join(dir, "pid"), "utf8").catch(() => "0"));
      if (owner > 0 && !alive(owner)) await rm(dir, { recursive: true, force: true });
      else await sleep(250);
    }
  }
  await writeFile(join(dir, "pid"), String(process.pid));
  try {
    return await fn();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
