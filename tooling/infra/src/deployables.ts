// The services `npm start` runs: every workspace with a `serve` script, so a new subgraph is
// picked up without a change here.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { ServiceSpec } from "./supervise.js";

interface Manifest {
  name?: string;
  workspaces?: string[];
  scripts?: Record<string, string>;
}

const readManifest = (dir: string) => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;

/** Workspace folders in the order the root manifest lists them; patterns may end in `/*`. */
function workspaceDirs(root: string): string[] {
  return (readManifest(root).workspaces ?? []).flatMap((pattern) => {
    if (!pattern.endsWith("/*"))
      return existsSync(join(root, pattern, "package.json")) ? [join(root, pattern)] : [];
    const parent = join(root, pattern.slice(0, -2));
    if (!existsSync(parent)) return [];
    return readdirSync(parent)
      .sort()
      .map((name) => join(parent, name))
      .filter((dir) => existsSync(join(dir, "package.json")));
  });
}

/** Each workspace with a `serve` script, named by its package name without the scope. */
export function deployables(root: string, script = "serve"): ServiceSpec[] {
  return workspaceDirs(root).flatMap((dir) => {
    const manifest = readManifest(dir);
    const command = manifest.scripts?.[script];
    if (command === undefined) return [];
    const name = (manifest.name ?? basename(dir)).replace(/^@[^/]+\//, "");
    return [{ name, command, cwd: dir }];
  });
}
