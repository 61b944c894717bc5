import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "../src/server.js";

describe("gateway HTTP", () => {
  let server: Server;
  let base: string;
  let webRoot: string;

  beforeAll(async () => {
    webRoot = await mkdtemp(join(tmpdir(), "gateway-web-"));
    await writeFile(join(webRoot, "index.html"), "<!doctype html><title>Ticketing</title>");
    await writeFile(join(webRoot, "app.js"), "console.log('app')");
    const app = createServer({ webRoot, logger: pino({ level: "silent" }) });
    await new Promise<void>((resolve) => {
      server = app.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === "string") throw new Error("no address");
    base = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(webRoot, { recursive: true, force: true });
  });

  it("answers liveness and readiness", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("x-powered-by")).toBeNull();
    }
  });

  it("serves the SPA's files and its shell for client-side routes", async () => {
    const asset = await fetch(`${base}/app.js`);
    expect(asset.status).toBe(200);
    expect(await asset.text()).toContain("console.log");

    const route = await fetch(`${base}/events/123`, { headers: { accept: "text/html" } });
    expect(route.status).toBe(200);
    expect(await route.text()).toContain("<title>Ticketing</title>");
  });

  it("answers 404 to an unknown non-HTML request", async () => {
    const response = await fetch(`${base}/nothing.json`, { headers: { accept: "application/json" } });
    expect(response.status).toBe(404);
  });
});
