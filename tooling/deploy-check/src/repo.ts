// The repository as the deployment files see it: its root, its workspace packages, and the
// deployables (every package with a `serve` script) with the port each listens on.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const chartDir = join(repoRoot, "helm");

export interface WorkspacePackage {
  name: string;
  /** Folder relative to the repository root, e.g. "subgraphs/auth". */
  dir: string;
  dependencies: string[];
  scripts: Record<string, string>;
}

interface Manifest {
  name: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  scripts?: Record<string, string>;
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
}

export function workspacePackages(root = repoRoot): WorkspacePackage[] {
  const patterns = readManifest(root).workspaces ?? [];
  const dirs = patterns.flatMap((pattern) => {
    if (!pattern.endsWith("/*")) return [join(root, pattern)];
    const parent = join(root, pattern.slice(0, -2));
    return existsSync(parent) ? readdirSync(parent).map((name) => join(parent, name)) : [];
  });
  return dirs
    .filter((dir) => existsSync(join(dir, "package.json")))
    .map((dir) => {
      const manifest = readManifest(dir);
      return {
        name: manifest.name,
        dir: relative(root, dir),
        dependencies: Object.keys(manifest.dependencies ?? {}),
        scripts: manifest.scripts ?? {},
      };
    });
}

/** Workspace packages a package needs at run time, directly or through others (not itself). */
export function internalRuntimeDependencies(
  pkg: WorkspacePackage,
  all: WorkspacePackage[],
): WorkspacePackage[] {
  const byName = new Map(all.map((p) => [p.name, p]));
  const found = new Map<string, WorkspacePackage>();
  const visit = (p: WorkspacePackage) => {
    for (const dep of p.dependencies) {
      const internal = byName.get(dep);
      if (internal && !found.has(dep)) {
        found.set(dep, internal);
        visit(internal);
      }
    }
  };
  visit(pkg);
  return [...found.values()];
}

/** The deployables and their component names in the chart ("subgraphs/auth" is "auth"). */
export const COMPONENTS = {
  gateway: { dir: "gateway", pkg: "@ticketing/gateway", port: 4000 },
  auth: { dir: "subgraphs/auth", pkg: "@ticketing/auth", port: 4001 },
  tickets: { dir: "subgraphs/tickets", pkg: "@ticketing/tickets", port: 4002 },
  orders: { dir: "subgraphs/orders", pkg: "@ticketing/orders", port: 4003 },
  payments: { dir: "subgraphs/payments", pkg: "@ticketing/payments", port: 4004 },
  passes: { dir: "subgraphs/passes", pkg: "@ticketing/passes", port: 4006 },
  expiration: { dir: "subgraphs/expiration", pkg: "@ticketing/expiration", port: 4005 },
} as const;

export type ComponentName = keyof typeof COMPONENTS;
export const COMPONENT_NAMES = Object.keys(COMPONENTS) as ComponentName[];

export function readRepoFile(path: string): string {
  return readFileSync(join(repoRoot, path), "utf8");
}
