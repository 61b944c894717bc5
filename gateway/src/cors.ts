// CORS for /graphql: partner pages from the allowed origins may call the graph, without
// credentials; only the SPA's own origin may send them (its session cookie).
import type { RequestHandler } from "express";
import { API_KEY_HEADER } from "./api-keys.js";

export interface CorsOptions {
  /** `*` for any origin, or the allowed origins (scheme://host[:port]). */
  allowedOrigins: "*" | readonly string[];
  /** The SPA's origin: the only one allowed credentials. */
  spaOrigin: string;
}

const ALLOWED_HEADERS = [
  "content-type",
  API_KEY_HEADER,
  "apollo-require-preflight",
  "x-apollo-operation-name",
  "x-request-id",
].join(", ");
const EXPOSED_HEADERS = [
  "ratelimit-limit",
  "ratelimit-remaining",
  "ratelimit-reset",
  "ratelimit-policy",
  "retry-after",
  "x-request-id",
].join(", ");

export function cors({ allowedOrigins, spaOrigin }: CorsOptions): RequestHandler {
  const allowed = allowedOrigins === "*" ? undefined : new Set(allowedOrigins);
  return (req, res, next) => {
    const origin = req.get("origin");
    res.vary("Origin");
    const credentials = origin === spaOrigin;
    const permitted = origin !== undefined && (credentials || !allowed || allowed.has(origin));
    if (permitted) {
      res.setHeader("access-control-allow-origin", origin);
      if (credentials) res.setHeader("access-control-allow-credentials", "true");
      res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
    }
    if (req.method !== "OPTIONS") return next();
    // A preflight: answered here, never by the graph.
    if (!permitted) {
      res.status(403).json({ error: "origin not allowed" });
      return;
    }
    res.setHeader("access-control-allow-methods", "GET, POST, OPTIONS");
    res.setHeader("access-control-allow-headers", ALLOWED_HEADERS);
    res.setHeader("access-control-max-age", "600");
    res.status(204).end();
  };
}
