// What processes cost while a benchmark runs, read from /proc (Linux): CPU time and resident memory.
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The fields of /proc/<pid>/stat after the command's name, which may itself hold spaces. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** CPU seconds (user and system) a process has used so far, or NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  // utime and stime, fields 14 and 15 of the whole line.
  return fields ? (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND : Number.NaN;
}

/**
 * Seconds each live thread of a process has spent ready to run but waiting for a core: what a
 * process loses to everything else running on the machine. Per thread, because a thread that
 * ends takes its count along.
 */
function waitsByThread(pid: number): Map<string, number> {
  const waits = new Map<string, number>();
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return waits;
  }
  for (const task of tasks) {
    try {
      // Time on a core, time waiting for one, time slices (nanoseconds, nanoseconds, count).
      const schedstat = readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8");
      waits.set(task, Number(schedstat.split(" ")[1]) / 1e9);
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return waits;
}

export function rssMb(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
    return line ? Number(line[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Every process started under `pid` (children, theirs, …), with its command's name. */
export function descendants(pid: number): { pid: number; name: string }[] {
  const parents = new Map<number, number[]>();
  const names = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    const child = Number(entry);
    if (!Number.isInteger(child)) continue;
    const fields = statFields(child);
    if (!fields) continue;
    const parent = Number(fields[1]);
    parents.set(parent, [...(parents.get(parent) ?? []), child]);
    try {
      names.set(child, readFileSync(`/proc/${child}/comm`, "utf8").trim());
    } catch {
      names.set(child, "?");
    }
  }
  const found: { pid: number; name: string }[] = [];
  const visit = (parent: number) => {
    for (const child of parents.get(parent) ?? []) {
      found.push({ pid: child, name: names.get(child)! });
      visit(child);
    }
  };
  visit(pid);
  return found;
}

export interface CpuUse {
  name: string;
  /** Share of one core over the whole sampling, in percent (NaN when it was too short to tell). */
  average: number;
  /** The busiest interval's share of one core, in percent. */
  peak: number;
  /** Time its threads were ready to run but waited for a core, as a share of the span, in percent. */
  waiting: number;
}

/**
 * Samples the CPU time of `processes` every `intervalMs` until stopped, so that a saturated
 * process (one at about 100 % of a core) shows, and the average over the whole span.
 */
export function sampleCpu(processes: { pid: number; name: string }[], intervalMs = 1_000) {
  const started = performance.now();
  const first = processes.map((p) => cpuSeconds(p.pid));
  // For each thread, its wait when sampling began (0 for one started since) and when last seen.
  const waits = processes.map((p) => {
    const threads = new Map<string, { from: number; to: number }>();
    for (const [thread, seconds] of waitsByThread(p.pid)) threads.set(thread, { from: seconds, to: seconds });
    return threads;
  });
  let last = [...first];
  let lastAt = started;
  const peaks = processes.map(() => 0);
  const sample = () => {
    const at = performance.now();
    const current = processes.map((p) => cpuSeconds(p.pid));
    for (const [index, seconds] of current.entries()) {
      const share = ((seconds - last[index]!) / ((at - lastAt) / 1000)) * 100;
      if (share > peaks[index]!) peaks[index] = share;
      for (const [thread, waited] of waitsByThread(processes[index]!.pid)) {
        const known = waits[index]!.get(thread);
        if (known) known.to = waited;
        else waits[index]!.set(thread, { from: 0, to: waited });
      }
    }
    last = current;
    lastAt = at;
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop(): CpuUse[] {
      clearInterval(timer);
      // An interval much shorter than the others would be all noise of a clock tick: a last one
      // is left out, and a span shorter than that has nothing to tell (NaN).
      if (performance.now() - lastAt >= intervalMs / 2) sample();
      const span = lastAt === started ? Number.NaN : (lastAt - started) / 1000;
      return processes.map((p, index) => ({
        name: p.name,
        average: ((last[index]! - first[index]!) / span) * 100,
        peak: Number.isNaN(span) ? Number.NaN : peaks[index]!,
        waiting:
          ([...waits[index]!.values()].reduce((sum, thread) => sum + thread.to - thread.from, 0) / span) *
          100,
      }));
    },
  };
}
