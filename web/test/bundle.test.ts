// @vitest-environment node
// The first load's JavaScript (the entry and what index.html preloads) stays within 150 KB gzip;
// every page beyond it is its own chunk.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { expect, it } from "vitest";

const dist = join(import.meta.dirname, "..", "dist");
const BUDGET = 150 * 1024;

it("loads at most 150 KB of gzipped JavaScript before the first page", async () => {
  const html = await readFile(join(dist, "index.html"), "utf8");
  const scripts = [
    ...html.matchAll(/<(?:script[^>]*src|link[^>]*rel="modulepreload"[^>]*href)="\/([^"]+\.js)"/g),
  ].map((match) => match[1] ?? "");
  expect(scripts.length).toBeGreaterThan(0);
  let total = 0;
  for (const script of scripts) total += gzipSync(await readFile(join(dist, script)), { level: 9 }).length;
  console.log(`initial JS: ${(total / 1024).toFixed(1)} KB gzip in ${scripts.length} files`);
  expect(total).toBeLessThanOrEqual(BUDGET);
});

it("ships the manifest of its documents for the gateway", async () => {
  const manifest = JSON.parse(await readFile(join(dist, "persisted-documents.json"), "utf8")) as Record<
    string,
    string
  >;
  expect(Object.values(manifest).some((text) => text.startsWith("mutation CreateOrder"))).toBe(true);
});
