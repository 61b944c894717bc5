// @vitest-environment node
// The first load's JavaScript (the entry and what index.html preloads) stays within 150 KB gzip;
// the landing page is part of it, every other page is its own chunk.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
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
  let brotli = 0;
  for (const script of scripts) {
    total += gzipSync(await readFile(join(dist, script)), { level: 9 }).length;
    brotli += (await readFile(join(dist, `${script}.br`))).length;
  }
  console.log(
    `initial JS: ${(total / 1024).toFixed(1)} KB gzip, ${(brotli / 1024).toFixed(1)} KB brotli (as served) in ${scripts.length} files`,
  );
  expect(total).toBeLessThanOrEqual(BUDGET);
});

it("ships brotli and gzip copies of every text file worth compressing, for the gateway to send", async () => {
  const files = (await readdir(dist, { recursive: true })).filter((name) =>
    /\.(?:js|css|html|json)$/.test(name),
  );
  let copies = 0;
  for (const name of files) {
    const body = await readFile(join(dist, name));
    if (body.length < 1024) continue;
    expect(brotliDecompressSync(await readFile(join(dist, `${name}.br`))).equals(body), name).toBe(true);
    expect(gunzipSync(await readFile(join(dist, `${name}.gz`))).equals(body), name).toBe(true);
    copies += 1;
  }
  expect(copies).toBeGreaterThan(5);
});

it("has a favicon, linked from the shell", async () => {
  const html = await readFile(join(dist, "index.html"), "utf8");
  const icon = /<link rel="icon"[^>]*href="\/([^"]+)"/.exec(html)?.[1];
  expect(icon).toBeDefined();
  expect((await readFile(join(dist, icon ?? ""), "utf8")).startsWith("<svg")).toBe(true);
});

it("ships the manifest of its documents for the gateway", async () => {
  const manifest = JSON.parse(await readFile(join(dist, "persisted-documents.json"), "utf8")) as Record<
    string,
    string
  >;
  expect(Object.values(manifest).some((text) => text.startsWith("mutation CreateOrder"))).toBe(true);
});
