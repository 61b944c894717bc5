// `npm test`: lint, typecheck and every package's tests through turbo, then one closing line
// "N passed, M failed" counting every test, plus every lint/typecheck/build task that failed.
import { spawnSync } from "node:child_process";
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

function latestTurboSummary(since: number): TurboSummary | undefined {
  const dir = join(root, ".turbo", "runs");
  if (!existsSync(dir)) return undefined;
  const newest = readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .map((name) => join(dir, name))
    .filter((file) => statSync(file).mtimeMs >= since)
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  return newest ? (JSON.parse(readFileSync(newest, "utf8")) as TurboSummary) : undefined;
}

async function main() {
  const env = loadEnv();
  // helm and actionlint check the deployment files offline (@ticketing/deploy-check).
  const servers: BinaryName[] = ["nats-server", "redis-server", "stripe-mock", "helm", "actionlint"];
  if (!env.testMongoUrl) servers.unshift("ferretdb");
  await ensureBinaries(servers, {
    cacheDir: env.cacheDir,
    path: env.path,
    log: (message) => console.log(`[test] ${message}`),
  });

  const packages = workspaces();
  for (const dir of packages) rmSync(join(dir, "test-results", "vitest.json"), { force: true });

  const started = Date.now();
  const turbo = spawnSync(
    "turbo",
    [
      "run",
      "format:check",
      "lint",
      "typecheck",
      "test",
      "--continue",
      "--summarize",
      // Two cores: more tasks at once only make each test slower and timing-sensitive ones flaky.
      "--concurrency=3",
      ...process.argv.slice(2),
    ],
    { stdio: "inherit", env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" } },
  );

  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const problems: string[] = [];
  const reported = new Set<string>();
  for (const dir of packages) {
    const file = join(dir, "test-results", "vitest.json");
    if (!existsSync(file)) continue;
    const name = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string }).name;
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

  const summary = latestTurboSummary(started);
  for (const task of summary?.tasks ?? []) {
    const code = task.execution?.exitCode;
    if (code === 0 || code === undefined || code === null) continue;
    if (task.task === "test" && reported.has(task.package)) continue;
    failed += 1;
    problems.push(`${task.taskId} failed (exit ${code})`);
  }
  if (turbo.status !== 0 && failed === 0) {
    failed += 1;
    problems.push(`turbo exited with ${turbo.status ?? turbo.signal}`);
  }

  for (const problem of problems) console.log(`✗ ${problem}`);
  const line = `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`;
  mkdirSync(join(root, "test-results"), { recursive: true });
  writeFileSync(join(root, "test-results", "summary.txt"), `${line}\n`);
  console.log(line);
  process.exitCode = failed > 0 || turbo.status !== 0 ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error(error);
  console.log("0 passed, 1 failed");
  process.exitCode = 1;
});
