// The built SPA (web/dist): its files, compressed as the browser accepts, cached for a year where
// their names carry a hash of their content; the shell (index.html) for client-side routes.
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";
import { Router, type Request, type Response } from "express";

/** Vite names every file of `/assets/` after a hash of its content: it never changes. */
const IMMUTABLE = "public, max-age=31536000, immutable";
/** The shell and the unhashed files (favicon, manifest): kept, but checked again on each use. */
const REVALIDATE = "no-cache";
const TEXT = new Set([".html", ".js", ".mjs", ".css", ".json", ".svg", ".txt", ".map", ".ico", ".xml"]);
/** Below this, a compressed body is hardly smaller and costs the client a decompression. */
const COMPRESS_FROM_BYTES = 1024;
/** The build's precompressed copies (web/vite.config.ts), served in place of their file, never alone. */
const PRECOMPRESSED = { br: ".br", gzip: ".gz" } as const;
type Encoding = keyof typeof PRECOMPRESSED;

const compress: Record<Encoding, (body: Buffer) => Promise<Buffer>> = {
  br: (body) =>
    promisify(brotliCompress)(body, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
    }),
  gzip: (body) => promisify(gzip)(body, { level: 6 }),
};

/** How much the client wants a content coding (0: not at all), from its Accept-Encoding. */
function quality(acceptEncoding: string, coding: string): number {
  let wildcard = 0;
  for (const part of acceptEncoding.split(",")) {
    const [name = "", ...params] = part.split(";").map((piece) => piece.trim().toLowerCase());
    const q = params.find((param) => param.startsWith("q="));
    const value = q === undefined ? 1 : Number(q.slice(2));
    if (name === coding) return Number.isFinite(value) ? value : 0;
    if (name === "*") wildcard = Number.isFinite(value) ? value : 0;
  }
  return wildcard;
}

/** The coding the client wants most; brotli where it wants both alike (it is the smaller). */
export function encodingFor(acceptEncoding: string): Encoding | undefined {
  const br = quality(acceptEncoding, "br");
  const gz = quality(acceptEncoding, "gzip");
  if (br > 0 && br >= gz) return "br";
  return gz > 0 ? "gzip" : undefined;
}

interface Entry {
  /** Which version of the file this is (a rebuild replaces it). */
  version: string;
  modifiedMs: number;
  body: Buffer;
  hash: string;
  /** Each encoding made once, from the build's copy when it has one, else here. */
  encoded: Map<Encoding, Promise<Buffer>>;
}

/** The SPA's routes; what is neither a file of the build nor a page's address is left to the next handler (404). */
export function spaRouter(webRoot: string): Router {
  const root = resolve(webRoot);
  const index = join(root, "index.html");
  const entries = new Map<string, Entry>();

  /** The file as it is now on disk, from memory when it has not changed; undefined when there is none. */
  async function load(file: string): Promise<Entry | undefined> {
    const stats = await stat(file).catch(() => undefined);
    if (!stats?.isFile()) {
      entries.delete(file);
      return undefined;
    }
    const version = `${stats.size}:${stats.mtimeMs}`;
    const known = entries.get(file);
    if (known?.version === version) return known;
    const body = await readFile(file);
    const entry: Entry = {
      version,
      modifiedMs: stats.mtimeMs,
      body,
      hash: createHash("sha256").update(body).digest("base64url").slice(0, 22),
      encoded: new Map(),
    };
    entries.set(file, entry);
    return entry;
  }

  function encoded(file: string, entry: Entry, encoding: Encoding): Promise<Buffer> {
    let body = entry.encoded.get(encoding);
    if (!body) {
      body = (async () => {
        const copy = `${file}${PRECOMPRESSED[encoding]}`;
        const copyStats = await stat(copy).catch(() => undefined);
        // A copy older than its file belongs to an earlier build.
        if (copyStats?.isFile() && copyStats.mtimeMs >= entry.modifiedMs) {
          return readFile(copy);
        }
        return compress[encoding](entry.body);
      })();
      body.catch(() => entry.encoded.delete(encoding));
      entry.encoded.set(encoding, body);
    }
    return body;
  }

  async function send(req: Request, res: Response, file: string, cacheControl: string): Promise<boolean> {
    const entry = await load(file);
    if (!entry) return false;
    const extension = extname(file);
    const compressible = TEXT.has(extension) && entry.body.length >= COMPRESS_FROM_BYTES;
    const chosen = compressible ? encodingFor(req.get("accept-encoding") ?? "") : undefined;
    res.type(extension);
    res.set("cache-control", cacheControl);
    if (compressible) res.vary("Accept-Encoding");
    res.set("etag", chosen ? `"${entry.hash}-${chosen}"` : `"${entry.hash}"`);
    if (chosen) res.set("content-encoding", chosen);
    if (req.fresh) {
      res.status(304).end();
      return true;
    }
    const body = chosen ? await encoded(file, entry, chosen) : entry.body;
    res.set("content-length", String(body.length));
    if (req.method === "HEAD") res.end();
    else res.end(body);
    return true;
  }

  /** The file of the build a path names, if the path stays inside it and is not hidden. */
  function fileOf(path: string): string | undefined {
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return undefined;
    }
    if (decoded.includes("\0") || decoded.split("/").some((segment) => segment.startsWith("."))) {
      return undefined;
    }
    if (Object.values(PRECOMPRESSED).some((suffix) => decoded.endsWith(suffix))) return undefined;
    const file = resolve(root, `.${decoded}`);
    return file.startsWith(root + sep) ? file : undefined;
  }

  /** A path that names a file (`/assets/…`, or a last segment with an extension), not a page. */
  const fileLike = (path: string) =>
    path.startsWith("/assets/") || /\.[A-Za-z0-9]+$/.test(path.slice(path.lastIndexOf("/") + 1));

  const router = Router();
  router.get(/.*/, async (req, res, next) => {
    if (req.path !== "/") {
      const file = fileOf(req.path);
      const cacheControl = req.path.startsWith("/assets/") ? IMMUTABLE : REVALIDATE;
      if (file && (await send(req, res, file, cacheControl))) return;
      if (fileLike(req.path)) return next();
    }
    // Client-side routes: a page's address gets the shell, if the client wants HTML.
    if (!req.accepts("html")) return next();
    if (!(await send(req, res, index, REVALIDATE))) next();
  });
  return router;
}
