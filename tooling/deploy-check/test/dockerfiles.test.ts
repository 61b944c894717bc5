import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkDockerfile, parseDockerfile, type DeployableSpec } from "../src/dockerfile.js";
import {
  COMPONENT_NAMES,
  COMPONENTS,
  internalRuntimeDependencies,
  readRepoFile,
  repoRoot,
  workspacePackages,
  type ComponentName,
} from "../src/repo.js";

function spec(component: ComponentName): DeployableSpec {
  const { dir, pkg, port } = COMPONENTS[component];
  const all = workspacePackages();
  const self = all.find((p) => p.name === pkg);
  // A service not yet in this checkout needs what every service needs.
  const runtimeWorkspaces = self
    ? internalRuntimeDependencies(self, all).map((p) => p.dir)
    : ["shared-events", "shared-runtime"];
  return {
    pkg,
    dir,
    port,
    runtimeWorkspaces,
    extraFiles: component === "gateway" ? ["supergraph.graphql"] : [],
  };
}

describe("every deployable has a Dockerfile that follows the rules", () => {
  it("the deployables are the packages that can be served", () => {
    const served = workspacePackages()
      .filter((p) => p.scripts.serve)
      .map((p) => p.dir);
    const known = Object.values(COMPONENTS).map((c) => c.dir);
    expect(served.filter((dir) => !known.includes(dir as never))).toEqual([]);
  });

  it.each(COMPONENT_NAMES)("%s", (component) => {
    const file = join(COMPONENTS[component].dir, "Dockerfile");
    expect(existsSync(join(repoRoot, file))).toBe(true);
    expect(checkDockerfile(readRepoFile(file), spec(component))).toEqual([]);
  });

  it("the gateway's image carries the SPA it serves", () => {
    expect(spec("gateway").runtimeWorkspaces).toContain("web");
  });
});

describe("the rules catch", () => {
  const good = readRepoFile("subgraphs/auth/Dockerfile");
  const auth = spec("auth");
  // The change lands in the final (runtime) stage when it can, as the dev stage repeats some lines.
  const runtimeAt = good.indexOf("AS runtime");
  const broken = (from: string | RegExp, to: string) => {
    const tail = good.slice(runtimeAt).replace(from, to);
    const text = tail !== good.slice(runtimeAt) ? good.slice(0, runtimeAt) + tail : good.replace(from, to);
    expect(text).not.toBe(good);
    return checkDockerfile(text, auth);
  };

  it.each([
    ["an unpinned base image", /node:22\.\d+\.\d+-bookworm-slim/, "node:22-bookworm-slim", /not a pinned/],
    ["the latest tag", /node:22\.\d+\.\d+-bookworm-slim/, "node:latest", /not a pinned/],
    ["a Node version that is not LTS", /node:22\.(\d+)\.(\d+)/, "node:23.$1.$2", /not Node 22 or 24/],
    ["a root user", /^USER node$/m, "USER root", /runs as root/],
    ["no user", /^USER node$/m, "", /sets no USER/],
    ["no health check", /^HEALTHCHECK[^\n]*\\\n[^\n]*\n/m, "", /no HEALTHCHECK/],
    ["dev dependencies in the image", /npm ci --omit=dev/, "npm ci", /production dependencies only/],
    [
      "another package pruned",
      /turbo prune @ticketing\/auth/,
      "turbo prune @ticketing/tickets",
      /does not prune/,
    ],
    [
      "a missing dist",
      /^COPY --from=build[^\n]*shared-events\/dist\/[^\n]*\n/m,
      "",
      /copy shared-events\/dist/,
    ],
    ["the wrong port", /^EXPOSE 4001$/m, "EXPOSE 4000", /EXPOSE 4001/],
  ])("%s", (_, from, to, problem) => {
    expect(broken(from, to).join("\n")).toMatch(problem);
  });

  it("continuation lines and comments", () => {
    const stages = parseDockerfile(
      "# c\nFROM node:22.1.0 AS a\nRUN one \\\n  # inside\n  two\nFROM a\nUSER 1000\n",
    );
    expect(stages).toEqual([
      { from: "node:22.1.0", name: "a", instructions: [{ keyword: "RUN", args: "one two", line: 3 }] },
      { from: "a", name: undefined, instructions: [{ keyword: "USER", args: "1000", line: 7 }] },
    ]);
  });
});

describe(".dockerignore", () => {
  it("keeps local builds, dependencies, state and secrets out of the build context", () => {
    const lines = readRepoFile(".dockerignore")
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith("#"));
    expect(lines).toEqual(
      expect.arrayContaining(["**/node_modules", "**/dist", ".data", ".git", "**/.env", "**/.env.*"]),
    );
    // turbo prune reads every workspace and the lockfile.
    for (const needed of ["package-lock.json", "package.json", "tooling", "shared-events", "bench"]) {
      expect(lines).not.toContain(needed);
    }
  });
});
