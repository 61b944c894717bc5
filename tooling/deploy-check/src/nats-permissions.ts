// The NATS users' permissions as the chart reads them: helm cannot import the declaration in
// @ticketing/infra, so it reads this file, generated from it (a deploy-check test holds the two
// equal). Regenerate after changing who publishes what:
//   npx tsx tooling/deploy-check/src/nats-permissions.ts
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { natsPermissions } from "@ticketing/infra";
import { chartDir } from "./repo.js";

export const NATS_PERMISSIONS_FILE = join(chartDir, "files", "nats-permissions.json");

/** The file's text as the declaration makes it. */
export function natsPermissionsJson(): string {
  return `${JSON.stringify(natsPermissions(), null, 2)}\n`;
}

export function readNatsPermissionsFile(): string {
  return readFileSync(NATS_PERMISSIONS_FILE, "utf8");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(NATS_PERMISSIONS_FILE, natsPermissionsJson());
  console.log(`wrote ${NATS_PERMISSIONS_FILE}`);
}
