// `npm test`: lint, typecheck and every package's tests through turbo, then one closing line
// "N passed, M failed" counting every test, plus every lint/typecheck/build task that failed.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ensureBinaries, loadEnv, lowPriority, type BinaryName } from "@ticketing/infra";

const root = process.cwd();

interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: { name: string; status: string; message?: string; assertionResults: { status: string }[] }[];
}

interface TurboSummary {
  tasks: { taskId: string; task: string; package: string; execution?: { exitCode?: number | null } }[];
}

function workspaces(): string[] {
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { workspaces: string[] };
  return manifest.workspaces.flatMap((pattern) => {
    if (!pattern.endsWith("/*")) return existsSync(join(root, pattern)) ? [join(root, pattern)] : [];
    const parent = join(root, pattern.slice(0, -2));
    if (!existsSync(parent)) return [];
    return readdirSync(parent)
      .map((name) => join(parent, name))
      .filter((dir) => existsSync(join(dir, "package.json")));
  });
}

/** A workspace package's name and scripts. */
function manifestOf(dir: string): { name: string; scripts?: Record<string, string> } {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
    name: string;
    scripts?: Record<string, string>;
  };
}

/** The summaries of the turbo runs that ended since `since`. */
function turboSummaries(since: number): TurboSummary[] {
  const dir = join(root, ".turbo", "runs");
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .map((name) => join(dir, name))
    .filter((file) => statSync(file).mtimeMs >= since)
    .map((file) => JSON.parse(readFileSync(file, "utf8")) as TurboSummary);
}

/**
 * Runs `turbo run …args` with the terminal, resolving to its exit status. `niced`: at the lowest
 * CPU priority, so that it takes only the CPU the other tasks leave (their waits on timers, on
 * pages, on servers restarting).
 */
function turbo(args: string[], { niced = false } = {}): Promise<number> {
  return new Promise((resolve) => {
    const [command, commandArgs] = niced
      ? lowPriority("turbo", ["run", ...args])
      : ["turbo", ["run", ...args]];
    const child = spawn(command, commandArgs, {
      stdio: "inherit",
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" },
    });
    child.once("error", () => resolve(1));
    child.once("close", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/** The package whose tests take longest, and whose fault tests hold services to timings. */
const LONGEST = "@ticketing/system-tests";
/** What runs before it in its lane: the browser tests, mostly waiting on pages. */
const BEFORE_LONGEST = "@ticketing/web";
/** The longest of the rest, first in the other lane; the others follow in the workspaces' order. */
const LONG_FIRST = ["@ticketing/gateway", "@ticketing/orders", "@ticketing/auth"];
/** Checks of the deployment files, with helm and actionlint: with the repository's checks. */
const DEPLOY_CHECK = "@ticketing/deploy-check";
/** Servers the tests need; the deployment files' tools (built with Go, for minutes) come apart. */
const SERVERS: BinaryName[] = ["nats-server", "redis-server", "stripe-mock"];
const DEPLOY_TOOLS: BinaryName[] = ["helm", "actionlint"];

/**
 * Runs `jobs` (turbo arguments each) one after another, then those `more` hands out until it has
 * none left; resolves to the first failing status, or 0.
 */
async function inTurn(
  jobs: string[][],
  more: () => string[] | undefined = () => undefined,
  options: { niced?: boolean } = {},
): Promise<number> {
  let failed = 0;
  const queue = [...jobs];
  for (let job = queue.shift() ?? more(); job; job = queue.shift() ?? more()) {
    const status = await turbo(job, options);
    if (failed === 0) failed = status;
  }
  return failed;
}

async function main() {
  const env = loadEnv();
  const extra = process.argv.slice(2);
  const servers = env.testMongoUrl ? SERVERS : (["ferretdb", ...SERVERS] satisfies BinaryName[]);

  const packages = workspaces();
  for (const dir of packages) rmSync(join(dir, "test-results", "vitest.json"), { force: true });
  const started = Date.now();

  // First every package's build, while the servers are fetched or built (with Go, for minutes, on
  // a machine's first run). The tasks below run without their builds (`--only`); a failed build is
  // counted from this run's summary.
  const summarize = ["--continue", "--summarize"];
  const log = (message: string) => console.log(`[test] ${message}`);
  // Settled at once, so that a failure waits (unhandled) for no one: it is thrown where awaited.
  const fetched = ensureBinaries(servers, { cacheDir: env.cacheDir, path: env.path, log }).then(
    () => undefined,
    (error: unknown) => ({ error }),
  );
  const binaries = async () => {
    const failure = await fetched;
    if (failure) throw failure.error;
  };
  await turbo(["build", "--output-logs=errors-only", ...summarize, ...extra]);

  const checks = ["format:check", "lint", "typecheck"];
  let statuses: Promise<number>[];
  if (extra.length > 0) {
    await binaries();
    await ensureBinaries(DEPLOY_TOOLS, { cacheDir: env.cacheDir, path: env.path, log });
    statuses = [turbo([...checks, "test", ...summarize, "--only", "--concurrency=3", ...extra])];
  } else {
    // The deployment files' tools are built (on a machine's first run) at the lowest priority,
    // from what CPU the tests leave; their check waits for them (the build's lock) at the end, and
    // builds them again, failing there, if this build failed.
    void ensureBinaries(DEPLOY_TOOLS, { cacheDir: env.cacheDir, path: env.path, log, niced: true }).catch(
      () => undefined,
    );
    // The repository's checks (format, lint, typecheck: the root's tasks) and the deployment
    // files' check need the builds only: they start at once, at the lowest priority, one at a
    // time, and fill what the tests leave idle.
    const checked = inTurn(
      [
        [...checks, ...summarize, "--only", "--filter=//", "--concurrency=1"],
        ["test", ...summarize, "--only", `--filter=${DEPLOY_CHECK}`],
      ],
      undefined,
      { niced: true },
    );
    await binaries();
    // Two cores, two lanes of tests: a third at the same priority made every one slower and the
    // system tier's fault tests (a service killed, then back within 10 s) miss their timings, as
    // did the browser tests beside them. One lane runs the browser tests, then the system tier; the
    // other the rest, one package at a time, the longest first, until the first lane helps.
    const tested = packages
      .map(manifestOf)
      .filter(
        (manifest) =>
          manifest.scripts?.test && ![LONGEST, BEFORE_LONGEST, DEPLOY_CHECK].includes(manifest.name),
      )
      .map((manifest) => manifest.name);
    const order = [
      ...LONG_FIRST.filter((name) => tested.includes(name)),
      ...tested.filter((name) => !LONG_FIRST.includes(name)),
    ];
    const job = (name: string) => ["test", ...summarize, "--only", `--filter=${name}`];
    // Whichever lane is free takes the next of the rest, so that the two end together.
    const next = () => {
      const name = order.shift();
      return name === undefined ? undefined : job(name);
    };
    statuses = [checked, inTurn([BEFORE_LONGEST, LONGEST].map(job), next), inTurn([], next)];
  }
  const turboStatus = (await Promise.all(statuses)).find((status) => status !== 0) ?? 0;

  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const problems: string[] = [];
  const reported = new Set<string>();
  for (const dir of packages) {
    const file = join(dir, "test-results", "vitest.json");
    if (!existsSync(file)) continue;
    const { name } = manifestOf(dir);
    reported.add(name);
    const report = JSON.parse(readFileSync(file, "utf8")) as VitestReport;
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
    // A test file that fails before any test runs (an import error, a failing hook) counts once.
    for (const result of report.testResults) {
      if (result.status === "failed" && !result.assertionResults.some((a) => a.status === "failed")) {
        failed += 1;
        problems.push(`${relative(root, result.name)}: ${result.message?.split("\n")[0] ?? "failed"}`);
      }
    }
  }

  for (const task of turboSummaries(started).flatMap((summary) => summary.tasks)) {
    const code = task.execution?.exitCode;
    if (code === 0 || code === undefined || code === null) continue;
    if (task.task === "test" && reported.has(task.package)) continue;
    failed += 1;
    problems.push(`${task.taskId} failed (exit ${code})`);
  }
  if (turboStatus !== 0 && failed === 0) {
    failed += 1;
    problems.push(`turbo exited with ${turboStatus}`);
  }

  for (const problem of problems) console.log(`✗ ${problem}`);
  const line = `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`;
  mkdirSync(join(root, "test-results"), { recursive: true });
  writeFileSync(join(root, "test-results", "summary.txt"), `${line}\n`);
  console.log(line);
  process.exitCode = failed > 0 || turboStatus !== 0 ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error(error);
  console.log("0 passed, 1 failed");
  process.exitCode = 1;
});
