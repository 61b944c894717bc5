import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { helmTemplate } from "../src/helm.js";
import { pinImageDigests, readDigests } from "../src/pin-images.js";
import { chartDir, COMPONENT_NAMES, COMPONENTS, readRepoFile, repoRoot } from "../src/repo.js";
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
      /helm package helm --version "\$VERSION" --app-version "\$SHA"/,
    );
  });
});

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  needs?: string | string[];
  if?: string;
  uses?: string;
  permissions?: Record<string, string>;
  strategy?: { matrix: Record<string, unknown> };
  steps: Step[];
}
interface Workflow {
  name: string;
  on: Record<string, Record<string, unknown> | null>;
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  jobs: Record<string, Job>;
}
const parseWorkflow = (text: string) => parse(text) as Workflow;
const releaseText = () => readRepoFile(".github/workflows/release.yml");
const release = () => parseWorkflow(releaseText());
const ci = () => parseWorkflow(readRepoFile(".github/workflows/ci.yml"));
const needsOf = (job: Job | undefined) => (job?.needs === undefined ? [] : [job.needs].flat());
const usesOf = (step: Step, action: string) => step.uses?.startsWith(`${action}@`) === true;

/** `uses:` lines that are neither a local workflow nor an action pinned by commit SHA with its tag. */
function unpinnedActions(text: string): string[] {
  const pinned = /^\s*(?:-\s+)?uses:\s+(?:\.\/\S+|[\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(?:\.\d+){0,2})\s*$/;
  return text
    .split("\n")
    .filter((line) => /^\s*(?:-\s+)?uses:/.test(line) && !pinned.test(line))
    .map((line) => line.trim());
}

/** What lets the release run on a commit CI has not passed. */
function releaseGateProblems(release: Workflow, ci: Workflow): string[] {
  const problems: string[] = [];
  const on = release.on;
  if (Object.keys(on).sort().join(",") !== "push,workflow_run")
    problems.push(`runs on ${Object.keys(on).join(", ")}: only after CI (workflow_run) or for a tag (push)`);
  if (Object.keys(on.push ?? {}).join(",") !== "tags") problems.push("a push other than a tag releases");
  expectEqual(problems, "workflow_run", on.workflow_run, {
    workflows: [ci.name],
    types: ["completed"],
    branches: ["main"],
  });
  if (!("workflow_call" in ci.on)) problems.push("CI cannot be called for a tag (no workflow_call)");
  // A called workflow in its caller's concurrency group waits for itself: GitHub cancels the run.
  const prefix = (group = "") => group.split("${{")[0];
  if (!prefix(ci.concurrency?.group) || prefix(ci.concurrency?.group) === prefix(release.concurrency?.group))
    problems.push("CI, called by the release, shares its concurrency group (a deadlock)");
  const { jobs } = release;
  if (jobs.ci?.uses !== "./.github/workflows/ci.yml" || jobs.ci.if !== "github.event_name == 'push'")
    problems.push("a tag does not run CI first");
  const gate = jobs.version?.if ?? "";
  if (!needsOf(jobs.version).includes("ci")) problems.push("version does not need ci");
  for (const condition of [
    "github.event.workflow_run.conclusion == 'success'",
    "github.event.workflow_run.event == 'push'",
    "github.event.workflow_run.head_branch == 'main'",
    "needs.ci.result == 'success'",
  ])
    if (!gate.includes(condition)) problems.push(`version runs without ${condition}`);
  // Every job that builds or publishes follows the gate.
  const reaches = (name: string, seen = new Set<string>()): boolean =>
    name === "version" ||
    needsOf(jobs[name]).some((need) => !seen.has(need) && reaches(need, seen.add(need)));
  for (const name of Object.keys(jobs).filter((job) => job !== "ci" && job !== "version"))
    if (!reaches(name)) problems.push(`${name} runs without the gate`);
  return problems;
}

function expectEqual(problems: string[], what: string, actual: unknown, expected: unknown) {
  if (JSON.stringify(actual) !== JSON.stringify(expected))
    problems.push(`${what} is ${JSON.stringify(actual)}, not ${JSON.stringify(expected)}`);
}

/** What is missing of the SBOM, the provenance and the signatures. */
function supplyChainProblems(release: Workflow): string[] {
  const problems: string[] = [];
  const { images, chart } = release.jobs;
  const steps = images?.steps ?? [];
  const build = steps.findIndex((step) => usesOf(step, "docker/build-push-action"));
  const buildStep = steps[build];
  if (!buildStep) return ["no docker/build-push-action step"];
  if (buildStep.id !== "build") problems.push("the build step has no id build");
  if (buildStep.with?.sbom !== true) problems.push("the images have no SBOM attestation (sbom: true)");
  if (buildStep.with?.provenance !== "mode=max")
    problems.push("the images have no full provenance attestation (provenance: mode=max)");
  const sign = steps.findIndex((step) => /cosign sign --yes "\$\{IMAGE\}@\$\{DIGEST\}"/.test(step.run ?? ""));
  if (sign < build) problems.push("the pushed image is not signed by its digest after the build");
  else if (steps[sign]?.env?.DIGEST !== "${{ steps.build.outputs.digest }}")
    problems.push("the signed digest is not the built one");
  const installer = steps.findIndex((step) => usesOf(step, "sigstore/cosign-installer"));
  if (installer < 0 || installer > sign) problems.push("cosign is not installed before signing");
  for (const [name, job] of Object.entries({ images, chart }))
    if (job?.permissions?.["id-token"] !== "write")
      problems.push(`${name} cannot sign keyless (id-token: write)`);
  if (
    !chart?.steps.some((step) => /cosign sign --yes "\$\{REGISTRY\}\/charts\/ticketing@/.test(step.run ?? ""))
  )
    problems.push("the chart is not signed");
  return problems;
}

/** What keeps the pushed digests out of the packaged chart. */
function digestProblems(release: Workflow): string[] {
  const problems: string[] = [];
  const { images, chart } = release.jobs;
  const kept = images?.steps.find((step) => /echo "\$DIGEST" > "digests\/\$COMPONENT"/.test(step.run ?? ""));
  if (kept?.env?.DIGEST !== "${{ steps.build.outputs.digest }}")
    problems.push("the images job does not keep the pushed digest");
  const upload = images?.steps.find((step) => usesOf(step, "actions/upload-artifact"));
  expectEqual(problems, "the digest artifact", upload?.with && [upload.with.name, upload.with.path], [
    "digest-${{ matrix.component }}",
    "digests/${{ matrix.component }}",
  ]);
  const steps = chart?.steps ?? [];
  const download = steps.findIndex(
    (step) => usesOf(step, "actions/download-artifact") && step.with?.pattern === "digest-*",
  );
  const pin = steps.findIndex(
    (step) => step.run === "npx tsx tooling/deploy-check/src/pin-images.ts helm/values.yaml dist/digests",
  );
  const packaged = steps.findIndex((step) => /helm package helm /.test(step.run ?? ""));
  if (download < 0 || steps[download]?.with?.path !== "dist/digests")
    problems.push("the chart job does not download the digests to dist/digests");
  if (pin < 0 || pin < download) problems.push("the digests are not written into the chart's values");
  if (packaged < pin) problems.push("the chart is packaged before its images are pinned");
  return problems;
}

/** What builds or publishes another commit than the one CI passed on. */
function commitProblems(release: Workflow): string[] {
  const problems: string[] = [];
  const released = "${{ needs.version.outputs.sha }}";
  const { version, images, chart } = release.jobs;
  const checkoutRef = (job: Job | undefined) =>
    job?.steps.find((step) => usesOf(step, "actions/checkout"))?.with?.ref;
  if (checkoutRef(version) !== "${{ github.event.workflow_run.head_sha || github.sha }}")
    problems.push("version does not check out the commit CI ran on");
  if (version?.steps.find((step) => step.id === "version")?.env?.SHA !== checkoutRef(version))
    problems.push("version does not name the commit it checked out");
  for (const [name, job] of Object.entries({ images, chart }))
    if (checkoutRef(job) !== released) problems.push(`${name} does not check out the released commit`);
  const meta = images?.steps.find((step) => usesOf(step, "docker/metadata-action"))?.with;
  if (!String(meta?.tags).includes(`type=raw,value=${released}`))
    problems.push("the images are not tagged with the released commit");
  if (!String(meta?.labels).includes(`org.opencontainers.image.revision=${released}`))
    problems.push("the images are not labelled with the released commit");
  return problems;
}

describe("the release", () => {
  it("builds, tags and packages the commit CI passed on, not the branch's newest", () => {
    expect(commitProblems(release())).toEqual([]);
    const broken = release();
    delete broken.jobs.images!.steps.find((step) => usesOf(step, "actions/checkout"))!.with;
    expect(commitProblems(broken)).toEqual(["images does not check out the released commit"]);
  });

  it("packages the chart with the helm the offline checks run", () => {
    const setupHelm = release().jobs.chart!.steps.find((step) => usesOf(step, "azure/setup-helm"));
    const built = /helm: \{[^}]*version: "(v[\d.]+)"/.exec(
      readRepoFile("tooling/infra/src/binaries.ts"),
    )?.[1];
    expect(built).toMatch(/^v3\./);
    expect(setupHelm?.with?.version).toBe(built);
  });

  it("pins every action, in every workflow, by commit SHA with its tag in a comment", () => {
    for (const file of workflowFiles())
      expect(unpinnedActions(readRepoFile(`.github/workflows/${file}`))).toEqual([]);
    expect(releaseText()).toMatch(/uses: \.\/\.github\/workflows\/ci\.yml/);
  });

  it("and the check names an action pinned by tag, or by SHA without its tag", () => {
    const broken = releaseText()
      .replace(/actions\/checkout@[0-9a-f]{40} # v[\d.]+/, "actions/checkout@v4")
      .replace(/(docker\/setup-buildx-action@[0-9a-f]{40}) # v[\d.]+/, "$1");
    expect(unpinnedActions(broken)).toEqual([
      "- uses: actions/checkout@v4",
      expect.stringMatching(/^- uses: docker\/setup-buildx-action@[0-9a-f]{40}$/),
    ]);
  });

  it("runs only after CI passed on the commit: on main after CI, for a tag after CI ran here", () => {
    expect(releaseGateProblems(release(), ci())).toEqual([]);
  });

  it.each<[string, (workflow: Workflow) => void, RegExp]>([
    [
      "on every push to main",
      (w) => void ((w.on.push as Record<string, unknown>).branches = ["main"]),
      /a push other than a tag/,
    ],
    ["by hand", (w) => void (w.on.workflow_dispatch = null), /only after CI/],
    [
      "whatever CI concluded",
      (w) => void (w.jobs.version!.if = "always()"),
      /without github\.event\.workflow_run\.conclusion == 'success'/,
    ],
    [
      "with images built without the gate",
      (w) => void delete w.jobs.images!.needs,
      /images runs without the gate/,
    ],
  ])("and the check fails a release that runs %s", (_, breakIt, message) => {
    const broken = release();
    breakIt(broken);
    expect(releaseGateProblems(broken, ci()).join("\n")).toMatch(message);
  });

  it("and the check fails a release in CI's concurrency group, which would wait for itself", () => {
    const broken = release();
    broken.concurrency!.group = "ci-${{ github.ref }}";
    expect(releaseGateProblems(broken, ci())).toEqual([
      "CI, called by the release, shares its concurrency group (a deadlock)",
    ]);
  });

  it("builds images with an SBOM and provenance, and signs them and the chart (cosign, keyless)", () => {
    expect(supplyChainProblems(release())).toEqual([]);
  });

  it.each<[string, (steps: Step[]) => void, RegExp]>([
    ["no SBOM", (steps) => void delete steps.find((s) => s.id === "build")!.with!.sbom, /no SBOM/],
    [
      "no provenance",
      (steps) => void (steps.find((s) => s.id === "build")!.with!.provenance = false),
      /no full provenance/,
    ],
    [
      "no signature",
      (steps) =>
        void steps.splice(
          steps.findIndex((s) => s.name === "Sign"),
          1,
        ),
      /not signed by its digest/,
    ],
  ])("and the check fails a release with %s", (_, breakIt, message) => {
    const broken = release();
    breakIt(broken.jobs.images!.steps);
    expect(supplyChainProblems(broken).join("\n")).toMatch(message);
  });

  it("writes the pushed digests into the chart's values before packaging it", () => {
    expect(digestProblems(release())).toEqual([]);
  });

  it("and the check fails a release that packages the chart first, or never pins it", () => {
    const late = release();
    const steps = late.jobs.chart!.steps;
    const pin = steps.findIndex((step) => step.run?.includes("pin-images.ts") === true);
    steps.push(...steps.splice(pin, 1));
    expect(digestProblems(late).join("\n")).toMatch(/packaged before its images are pinned/);
    const never = release();
    never.jobs.chart!.steps.splice(pin, 1);
    expect(digestProblems(never).join("\n")).toMatch(/not written into the chart's values/);
  });

  describe("the chart's version", () => {
    const base = (parse(readFileSync(join(chartDir, "Chart.yaml"), "utf8")) as { version: string }).version;
    const sha = "3f9d2c1b7a6e5d4c3b2a19087f6e5d4c3b2a1908";
    const dir = mkdtempSync(join(tmpdir(), "ticketing-release-"));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    /** The version step of the release, run as the runner would, with its outputs. */
    function versionStep(env: Record<string, string>) {
      const step = release().jobs.version!.steps.find((s) => s.id === "version")!;
      const output = join(dir, `output-${Math.random().toString(36).slice(2)}`);
      writeFileSync(output, "");
      const script = join(dir, "version.sh");
      writeFileSync(script, step.run!);
      // As the runner runs a step's script.
      const result = run("bash", ["--noprofile", "--norc", "-eo", "pipefail", script], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH, GITHUB_OUTPUT: output, ...env },
      });
      const outputs = Object.fromEntries(
        readFileSync(output, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((line) => line.split(/=(.*)/s).slice(0, 2)),
      ) as Record<string, string>;
      return { ...result, outputs };
    }

    it("is a pre-release of Chart.yaml's version for main, numbered by the CI run, with the commit", () => {
      const result = versionStep({
        EVENT: "workflow_run",
        SHA: sha,
        CI_RUN_NUMBER: "42",
        TAG: "main",
        OWNER: "Ticketing-Example",
      });
      expect(result.stderr).toBe("");
      expect(result.outputs).toEqual({
        sha,
        "chart-version": `${base}-main.42+3f9d2c1b7a6e`,
        // Registry paths are lower case, owners need not be.
        registry: "ghcr.io/ticketing-example",
      });
    });

    it("is the tag's version for a tag, which must be Chart.yaml's", () => {
      expect(versionStep({ EVENT: "push", SHA: sha, TAG: `v${base}` }).outputs["chart-version"]).toBe(base);
      const wrong = versionStep({ EVENT: "push", SHA: sha, TAG: "v99.0.0" });
      expect(wrong.status).toBe(1);
      expect(wrong.stdout).toContain(`tag v99.0.0 is not v${base}, the version in helm/Chart.yaml`);
      expect(versionStep({ EVENT: "workflow_run", SHA: sha, CI_RUN_NUMBER: "", TAG: "main" }).status).toBe(1);
    });

    it("is one helm packages, and is never published twice", () => {
      const version = `${base}-main.42+3f9d2c1b7a6e`;
      const result = run(tools().helm, [
        "package",
        chartDir,
        "--version",
        version,
        "--app-version",
        sha,
        "--destination",
        dir,
      ]);
      expect(result.stderr).toBe("");
      expect(readdirSync(dir)).toContain(`ticketing-${version}.tgz`);
      const steps = release().jobs.chart!.steps;
      const refuse = steps.findIndex((step) => step.name === "Refuse a version already published");
      const push = steps.findIndex((step) => /helm push /.test(step.run ?? ""));
      expect(steps[refuse]?.run).toMatch(
        /if helm show chart "oci:\/\/\$\{REGISTRY\}\/charts\/ticketing" --version "\$VERSION"/,
      );
      expect(refuse).toBeGreaterThan(-1);
      expect(refuse).toBeLessThan(push);
    });

    it("and an older release cannot finish after a newer one: one at a time, in order", () => {
      expect(release().concurrency).toEqual({
        group: "release-${{ github.event_name == 'workflow_run' && 'main' || github.ref }}",
        "cancel-in-progress": false,
      });
    });
  });

  describe("pinning the images by digest", () => {
    const digestOf = (name: string) => `sha256:${name.padEnd(64, "0").replace(/[^a-f0-9]/g, "f")}`;
    const digests = Object.fromEntries(COMPONENT_NAMES.map((name) => [name, digestOf(name)]));
    const values = () => readFileSync(join(chartDir, "values.yaml"), "utf8");

    it("makes the chart run every component's image by digest", () => {
      const dir = mkdtempSync(join(tmpdir(), "ticketing-pin-"));
      try {
        mkdirSync(join(dir, "digests"));
        for (const [name, digest] of Object.entries(digests))
          writeFileSync(join(dir, "digests", name), `${digest}\n`);
        const pinned = pinImageDigests(values(), readDigests(join(dir, "digests")));
        writeFileSync(join(dir, "values.yaml"), pinned);
        // Only the digests changed; comments and everything else are kept.
        expect(pinned.split("\n").filter((line) => line.includes("sha256:"))).toHaveLength(
          COMPONENT_NAMES.length,
        );
        expect(pinned).toContain("# Ticketing chart values.");
        const result = helmTemplate(tools().helm, {
          valuesFiles: [
            join(dir, "values.yaml"),
            join(repoRoot, "tooling", "deploy-check", "fixtures", "values-production.yaml"),
          ],
        });
        expect(result.stderr).toBe("");
        for (const name of COMPONENT_NAMES) {
          const deployment = result.manifests.find(
            (m) => m.kind === "Deployment" && m.metadata.name === `ticketing-${name}`,
          ) as { spec: { template: { spec: { containers: { image: string }[] } } } } | undefined;
          expect(deployment?.spec.template.spec.containers[0]?.image).toBe(
            `ghcr.io/ticketing-example/ticketing-${name}:3f9d2c1b7a6e5d4c3b2a19087f6e5d4c3b2a1908@${digests[name]}`,
          );
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("refuses a missing, malformed or unknown digest", () => {
      const { expiration: _, ...missing } = digests;
      expect(() => pinImageDigests(values(), missing)).toThrow("no digest for the expiration image");
      expect(() => pinImageDigests(values(), { ...digests, auth: "sha256:abc" })).toThrow(
        'the auth digest is not sha256:<64 hex>: "sha256:abc"',
      );
      expect(() => pinImageDigests(values(), { ...digests, billing: digestOf("billing") })).toThrow(
        "not components of the chart: billing",
      );
    });
  });
});
