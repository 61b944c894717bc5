import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { COMPONENTS, readRepoFile, repoRoot } from "../src/repo.js";
import { run } from "../src/tools.js";
import { tools } from "./tools.js";

const workflowsDir = join(repoRoot, ".github", "workflows");
const workflowFiles = () => readdirSync(workflowsDir).filter((file) => /\.ya?ml$/.test(file));

// Shell scripts are not checked (no shellcheck on every machine), so the result is the same everywhere.
const actionlint = (files: string[], cwd = repoRoot) =>
  run(tools().actionlint, ["-no-color", "-shellcheck=", "-pyflakes=", ...files], { cwd });

describe("GitHub Actions workflows", () => {
  it("pass actionlint", () => {
    expect(workflowFiles().sort()).toEqual(["ci.yml", "release.yml"]);
    const result = actionlint(workflowFiles().map((file) => join(".github", "workflows", file)));
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("and actionlint rejects a broken one", () => {
    const dir = mkdtempSync(join(tmpdir(), "ticketing-actionlint-"));
    try {
      const broken = readRepoFile(".github/workflows/ci.yml").replace(
        "runs-on: ubuntu-24.04",
        "runs_on: ubuntu-24.04",
      );
      writeFileSync(join(dir, "ci.yml"), broken);
      const result = actionlint([join(dir, "ci.yml")], dir);
      expect(result.status).not.toBe(0);
      expect(result.stdout).toMatch(/runs_on|runs-on/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  interface Workflow {
    jobs: Record<
      string,
      {
        strategy?: { matrix: Record<string, unknown> };
        steps: { run?: string; with?: Record<string, string> }[];
      }
    >;
  }
  const workflow = (file: string) => parse(readRepoFile(`.github/workflows/${file}`)) as Workflow;

  it("CI runs .ci/run on every supported Node version", () => {
    const { test } = workflow("ci.yml").jobs;
    expect(test?.strategy?.matrix.node).toEqual(["20", "22", "24"]);
    const runs = test?.steps.flatMap((step) => (step.run ? [step.run] : []));
    expect(runs).toContain("npm ci");
    expect(runs).toContain("bash .ci/run");
    expect(readRepoFile(".ci/run")).toMatch(/^npm test$/m);
  });

  it("the release builds an image of every deployable from its Dockerfile, then packages the chart", () => {
    const { images, chart } = workflow("release.yml").jobs;
    const include = images?.strategy?.matrix.include as { component: string; dockerfile: string }[];
    expect(include).toEqual(
      Object.entries(COMPONENTS).map(([component, { dir }]) => ({
        component,
        dockerfile: `${dir}/Dockerfile`,
      })),
    );
    const buildPush = images?.steps.find((step) => step.with?.file === "${{ matrix.dockerfile }}");
    expect(buildPush?.with).toMatchObject({ context: ".", push: true, target: "runtime" });
    expect(chart?.steps.map((step) => step.run ?? "").join("\n")).toMatch(
      /helm package helm --app-version "\$\{GITHUB_SHA\}"/,
    );
  });
});
