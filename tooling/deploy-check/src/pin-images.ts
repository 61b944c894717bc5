// The release's last step before `helm package`: every component's image, referenced by the
// digest the registry gave it when it was pushed, written into the chart's values
// (components.<name>.image.digest), comments and layout kept. A chart so packaged runs exactly
// the images that were built, signed and attested for its commit, whatever the tags point at.
//
//   tsx tooling/deploy-check/src/pin-images.ts <values.yaml> <digests dir>
//
// The digests directory holds one file per component, named after it, containing its digest.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMap, parseDocument } from "yaml";
import { COMPONENT_NAMES, type ComponentName } from "./repo.js";

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** The values text with each component's image digest set; every component needs a valid one. */
export function pinImageDigests(valuesText: string, digests: Record<string, string | undefined>): string {
  const unknown = Object.keys(digests).filter((name) => !(COMPONENT_NAMES as string[]).includes(name));
  if (unknown.length > 0) throw new Error(`not components of the chart: ${unknown.join(", ")}`);
  const doc = parseDocument(valuesText);
  if (doc.errors.length > 0) throw new Error(`the values are not YAML: ${doc.errors[0]!.message}`);
  for (const name of COMPONENT_NAMES) {
    const digest = digests[name];
    if (digest === undefined) throw new Error(`no digest for the ${name} image`);
    if (!DIGEST.test(digest)) throw new Error(`the ${name} digest is not sha256:<64 hex>: "${digest}"`);
    if (!isMap(doc.getIn(["components", name]))) throw new Error(`the values have no components.${name}`);
    doc.setIn(["components", name, "image", "digest"], digest);
  }
  return doc.toString({ lineWidth: 0 });
}

export function readDigests(dir: string): Partial<Record<ComponentName, string>> {
  return Object.fromEntries(
    COMPONENT_NAMES.filter((name) => existsSync(join(dir, name))).map((name) => [
      name,
      readFileSync(join(dir, name), "utf8").trim(),
    ]),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [valuesFile, digestsDir] = process.argv.slice(2);
  if (!valuesFile || !digestsDir) {
    console.error("usage: pin-images.ts <values.yaml> <digests dir>");
    process.exit(2);
  }
  try {
    const digests = readDigests(digestsDir);
    writeFileSync(valuesFile, pinImageDigests(readFileSync(valuesFile, "utf8"), digests));
    for (const [name, digest] of Object.entries(digests)) console.log(`${name}: ${digest}`);
  } catch (error) {
    console.error(`pin-images: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
