// `npm test`: lint, typecheck and every package's tests through turbo, then one closing line
// "N passed, M failed" counting every test, plus every lint/typecheck/build task that failed.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ensureBinaries, loadEnv, type BinaryName } from "@ticketing/infra";

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

/** Runs `turbo run …args` with the terminal, resolving to its exit status. */
function turbo(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn("turbo", ["run", ...args], {
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
const LONG_FIRST = ["@ticketing/gateway"];

/** Runs `jobs` (turbo arguments each) one after another; resolves to the first failing status, or 0. */
async function inTurn(jobs: string[][]): Promise<number> {
  let failed = 0;
  for (const job of jobs) {
    const status = await turbo(job);
    if (failed === 0) failed = status;
  }
  return failed;
}

async function main() {
  const env = loadEnv();
  const extra = process.argv.slice(2);
  // helm and actionlint check the deployment files offline (@ticketing/deploy-check).
  const servers: BinaryName[] = ["nats-server", "redis-server", "stripe-mock", "helm", "actionlint"];
  if (!env.testMongoUrl) servers.unshift("ferretdb");

  const packages = workspaces();
  for (const dir of packages) rmSync(join(dir, "test-results", "vitest.json"), { force: true });
  const started = Date.now();

  // First every package's build, while the servers are fetched or built (with Go, for minutes, on
  // a machine's first run). The tasks below run without their builds (`--only`); a failed build is
  // counted from this run's summary.
  const summarize = ["--continue", "--summarize"];
  // Settled at once, so that a failure waits (unhandled) for no one: it is thrown where awaited.
  const fetched = ensureBinaries(servers, {
    cacheDir: env.cacheDir,
    path: env.path,
    log: (message) => console.log(`[test] ${message}`),
  }).then(
    () => undefined,
    (error: unknown) => ({ error }),
  );
  let serversThere = false;
  void fetched.then(() => (serversThere = true));
  const binaries = async () => {
    const failure = await fetched;
    if (failure) throw failure.error;
  };
  await turbo(["build", "--output-logs=errors-only", ...summarize, ...extra]);

  const checks = ["format:check", "lint", "typecheck"];
  let statuses: Promise<number>[];
  if (extra.length > 0) {
    await binaries();
    statuses = [turbo([...checks, "test", ...summarize, "--only", "--concurrency=3", ...extra])];
  } else {
    // The repository's checks (format, lint, typecheck: the root's tasks) need the builds only:
    // while the servers are still in the making, they start at once, one at a time. Otherwise
    // they take their turn among the tests.
    const early = !serversThere
      ? [turbo([...checks, ...summarize, "--only", "--filter=//", "--concurrency=1"])]
      : [];
    await binaries();
    // Two cores, two lanes: a third task at once made every one slower and the system tier's
    // fault tests (a service killed, then back within 10 s) miss their timings. One lane runs the
    // browser tests, then the system tier; the other the rest, one task at a time, the longest
    // first.
    const tested = packages
      .map(manifestOf)
      .filter(
        (manifest) => manifest.scripts?.test && manifest.name !== LONGEST && manifest.name !== BEFORE_LONGEST,
      )
      .map((manifest) => manifest.name);
    const order = LONG_FIRST.filter((name) => tested.includes(name));
    const jobs = [
      ...order.map((name) => ["test", `--filter=${name}`]),
      ...(early.length > 0 ? [] : checks.map((check) => [check, "--filter=//"])),
      ...tested.filter((name) => !order.includes(name)).map((name) => ["test", `--filter=${name}`]),
    ].map((job) => [...job, ...summarize, "--only"]);
    const longLane = [BEFORE_LONGEST, LONGEST].map((name) => [
      "test",
      ...summarize,
      "--only",
      `--filter=${name}`,
    ]);
    statuses = [...early, inTurn(longLane), inTurn(jobs)];
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
