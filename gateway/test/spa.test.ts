// The SPA's files as the gateway serves them: compressed as the client accepts, cached for a year
// when their name is hashed, the shell for pages only, and 404 for a file that is not there.
import { request, type IncomingHttpHeaders } from "node:http";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodingFor, spaRouter } from "../src/spa.js";

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A plain HTTP request: the body as it came over the wire, nothing decoded. */
function get(origin: string, path: string, headers: Record<string, string> = {}, method = "GET") {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(`${origin}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

/** The gateway's SPA routes on their own, with the gateway's 404 behind them. */
async function serve(webRoot: string) {
  const app = express();
  app.use(spaRouter(webRoot));
  app.use((_req, res) => void res.status(404).json({ error: "not found" }));
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const HTML = "text/html";
const script = `export const rows = [${Array.from({ length: 400 }, (_, i) => `"row ${i}"`).join(",")}];\n`;

describe("a build's files", () => {
  let origin: string;
  let close: () => Promise<unknown>;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), "gateway-spa-"));
    await mkdir(join(dir, "assets"));
    await writeFile(join(dir, "index.html"), `<!doctype html><title>Ticketing</title>${" ".repeat(2000)}`);
    await writeFile(join(dir, "assets", "index-AbC123.js"), script);
    await writeFile(join(dir, "assets", "tiny-AbC123.js"), "export {};\n");
    await writeFile(join(dir, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
    await writeFile(join(dir, ".secret"), "not for anyone");
    ({ origin, close } = await serve(dir));
  });
  afterAll(() => close());

  it("serves a hashed asset brotli or gzip as accepted, cached for a year, varying by encoding", async () => {
    const br = await get(origin, "/assets/index-AbC123.js", { "accept-encoding": "gzip, deflate, br" });
    expect(br.status).toBe(200);
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers["content-type"]).toMatch(/^text\/javascript/);
    expect(br.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(Number(br.headers["content-length"])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(script.length / 3);
    expect(brotliDecompressSync(br.body).toString()).toBe(script);

    const gzip = await get(origin, "/assets/index-AbC123.js", { "accept-encoding": "gzip;q=1, br;q=0" });
    expect(gzip.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gzip.body).toString()).toBe(script);

    const plain = await get(origin, "/assets/index-AbC123.js");
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.toString()).toBe(script);
    // Each representation has its own validator.
    expect(new Set([br.headers.etag, gzip.headers.etag, plain.headers.etag]).size).toBe(3);
  });

  it("answers a request with the version the client has with 304, for each encoding", async () => {
    const headers = { "accept-encoding": "br" };
    const first = await get(origin, "/assets/index-AbC123.js", headers);
    const again = await get(origin, "/assets/index-AbC123.js", {
      ...headers,
      "if-none-match": first.headers.etag ?? "",
    });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });

  it("sends a file too small to gain as it is", async () => {
    const tiny = await get(origin, "/assets/tiny-AbC123.js", { "accept-encoding": "br, gzip" });
    expect(tiny.headers["content-encoding"]).toBeUndefined();
    expect(tiny.body.toString()).toBe("export {};\n");
  });

  it("serves the shell for a page's address and for /, never cached without asking", async () => {
    for (const path of ["/", "/events/65a1b2c3d4e5f6a7b8c9d0e1", "/orders"]) {
      const page = await get(origin, path, { accept: HTML, "accept-encoding": "gzip" });
      expect(page.status, path).toBe(200);
      expect(page.headers["content-type"]).toMatch(/^text\/html/);
      expect(page.headers["cache-control"]).toBe("no-cache");
      expect(page.headers["content-encoding"]).toBe("gzip");
      expect(gunzipSync(page.body).toString()).toContain("<title>Ticketing</title>");
    }
    const head = await get(origin, "/orders", { accept: HTML }, "HEAD");
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    const favicon = await get(origin, "/favicon.svg");
    expect(favicon.status).toBe(200);
    expect(favicon.headers["content-type"]).toMatch(/^image\/svg\+xml/);
    expect(favicon.headers["cache-control"]).toBe("no-cache");
  });

  it("answers 404 for a file that is not there, never the shell", async () => {
    for (const path of [
      "/assets/index-Gone99.js",
      "/assets/logo",
      "/favicon.ico",
      "/robots.txt",
      "/events/1/photo.png",
      "/.secret",
      "/assets/index-AbC123.js.br",
      "/assets/..%2f..%2fetc%2fpasswd",
    ]) {
      const answer = await get(origin, path, { accept: `${HTML},*/*` });
      expect(answer.status, path).toBe(404);
      expect(answer.body.toString(), path).not.toContain("<title>");
    }
  });

  it("answers 404 to a page's address for a client that does not want HTML", async () => {
    expect((await get(origin, "/orders", { accept: "application/json" })).status).toBe(404);
  });
});

it("serves the real build's first script from its precompressed copy", async () => {
  const dist = join(dirname(fileURLToPath(import.meta.resolve("@ticketing/web/package.json"))), "dist");
  const { origin, close } = await serve(dist);
  try {
    const shell = (await get(origin, "/", { accept: HTML })).body.toString();
    const entry = /<script type="module" crossorigin src="([^"]+)"/.exec(shell)?.[1];
    expect(entry).toMatch(/^\/assets\/index-[\w-]+\.js$/);
    const answer = await get(origin, entry ?? "", { "accept-encoding": "br, gzip" });
    expect(answer.headers["content-encoding"]).toBe("br");
    expect(answer.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(answer.body.equals(await readFile(join(dist, `${entry}.br`)))).toBe(true);
    expect(brotliDecompressSync(answer.body).equals(await readFile(join(dist, entry ?? "")))).toBe(true);
  } finally {
    await close();
  }
});

it("picks the coding the client wants most, brotli when it wants both alike", () => {
  expect(encodingFor("gzip, deflate, br, zstd")).toBe("br");
  expect(encodingFor("gzip;q=1, br;q=0.5")).toBe("gzip");
  expect(encodingFor("br;q=0, gzip;q=0.1")).toBe("gzip");
  expect(encodingFor("*")).toBe("br");
  expect(encodingFor("*, br;q=0")).toBe("gzip");
  expect(encodingFor("identity")).toBeUndefined();
  expect(encodingFor("")).toBeUndefined();
});
