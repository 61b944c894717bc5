// Renders the chart with `helm template` and parses what comes out.
import { parseAllDocuments } from "yaml";
import { chartDir } from "./repo.js";
import { run } from "./tools.js";

/** The Kubernetes version the chart is rendered for offline (the schemas are those of 1.30). */
export const KUBE_VERSION = "1.30.0";

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  [field: string]: unknown;
}

export interface RenderOptions {
  valuesFiles?: string[];
  set?: Record<string, string>;
  /** Values of any JSON type (`--set-json`): numbers, booleans, lists, as the schema checks them. */
  setJson?: Record<string, unknown>;
  /** The Kubernetes version rendered for; null: helm's own default, as a plain `helm template` does. */
  kubeVersion?: string | null;
  release?: string;
  namespace?: string;
}

export interface Render {
  ok: boolean;
  stderr: string;
  manifests: Manifest[];
}

function helmArgs(options: RenderOptions): string[] {
  return [
    ...(options.valuesFiles ?? []).flatMap((file) => ["--values", file]),
    ...Object.entries(options.set ?? {}).flatMap(([key, value]) => ["--set-string", `${key}=${value}`]),
    ...Object.entries(options.setJson ?? {}).flatMap(([key, value]) => [
      "--set-json",
      `${key}=${JSON.stringify(value)}`,
    ]),
    ...(options.kubeVersion === null ? [] : ["--kube-version", options.kubeVersion ?? KUBE_VERSION]),
  ];
}

export function parseManifests(text: string): Manifest[] {
  const manifests: Manifest[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0)
      throw new Error(`invalid YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    manifests.push(value as Manifest);
  }
  return manifests;
}

/** Renders already made in this process, by helm's arguments: the chart does not change during a run. */
const renders = new Map<string, Render>();

export function helmTemplate(helm: string, options: RenderOptions = {}): Render {
  const args = [
    "template",
    options.release ?? "ticketing",
    chartDir,
    "--namespace",
    options.namespace ?? "ticketing",
    ...helmArgs(options),
  ];
  const key = JSON.stringify([helm, args]);
  let render = renders.get(key);
  if (!render) {
    const result = run(helm, args);
    const ok = result.status === 0;
    render = { ok, stderr: result.stderr, manifests: ok ? parseManifests(result.stdout) : [] };
    renders.set(key, render);
  }
  // A copy: a test may change what it was given.
  return structuredClone(render);
}

export function helmLint(helm: string, options: RenderOptions = {}): { ok: boolean; output: string } {
  const result = run(helm, ["lint", chartDir, "--strict", ...helmArgs(options)]);
  return { ok: result.status === 0, output: result.stdout + result.stderr };
}

export function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the render`);
  return found;
}
