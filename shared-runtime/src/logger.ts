import { randomUUID } from "node:crypto";
import type { Request, RequestHandler } from "express";
import { context } from "@opentelemetry/api";
import pino, { type DestinationStream, type LevelWithSilent, type Logger } from "pino";

import { activeTraceIds, requestTraceContext, tracesRecorded } from "./telemetry/tracing.js";

export type { Logger } from "pino";

const SECRETS = [
  "password",
  "newPassword",
  "currentPassword",
  "token",
  "accessToken",
  "refreshToken",
  "secret",
];

/** What never reaches a log line: credentials in headers, and secrets at the top level or one level down. */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  // auth hands the session token to the gateway in this response header.
  'res.headers["x-session-token"]',
  "headers.authorization",
  "headers.cookie",
  ...SECRETS,
  ...SECRETS.map((key) => `*.${key}`),
];

/**
 * The service's one logger; `destination` defaults to stdout. Each line written inside a recorded
 * trace carries its `traceId` and `spanId`; a request's lines carry its trace's either way
 * (`requestScope`).
 */
export function createLogger(
  name: string,
  level: LevelWithSilent = "info",
  destination?: DestinationStream,
): Logger {
  const options = {
    name,
    level,
    redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
    serializers: { err: pino.stdSerializers.err, req: pino.stdSerializers.req, res: pino.stdSerializers.res },
    mixin: () => activeTraceIds() ?? {},
  };
  return destination ? pino(options, destination) : pino(options);
}

export interface RequestScope {
  requestId: string;
  logger: Logger;
}

const scopes = new WeakMap<Request, RequestScope>();

// Bounded and plain, so a caller cannot inject log lines or bloat every entry through the header.
const REQUEST_ID = /^[\w.:-]{1,128}$/;
// Asked every few seconds by the platform (probes) and Prometheus (scrapes): logged at debug.
const PROBES = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * Gives each request an id (the caller's `x-request-id`, or a new UUID), echoes it in the response,
 * and a child logger that carries it, and its trace's ids once it has a trace (when spans are
 * recorded, the active span's come from the logger's mixin instead); logs each finished request.
 */
export function requestScoping(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    let plain = logger.child({ requestId });
    let traced: Logger | undefined;
    const scope: RequestScope = {
      requestId,
      get logger() {
        if (traced) return traced;
        const trace = tracesRecorded() ? undefined : requestTraceContext(req);
        const ids = trace && activeTraceIds(trace);
        return ids ? (traced = plain.child(ids)) : plain;
      },
      // A later stage may narrow the logger (the gateway names the partner); the ids follow it.
      set logger(narrowed: Logger) {
        if (traced) traced = narrowed;
        else plain = narrowed;
      },
    };
    scopes.set(req, scope);
    res.setHeader("x-request-id", requestId);
    const started = process.hrtime.bigint();
    res.on("finish", () => {
      // In the request's trace (its operation's span, once one started), not the socket's.
      context.with(requestTraceContext(req) ?? context.active(), () => {
        const responseTime = Number(process.hrtime.bigint() - started) / 1e6;
        const level = PROBES.has(req.path) ? "debug" : "info";
        scope.logger[level]({ req, res, responseTime }, "request completed");
      });
    });
    next();
  };
}

/** The request's id and logger; `requestScoping` must run first. */
export function requestScope(req: Request): RequestScope {
  const scope = scopes.get(req);
  if (!scope) throw new Error("requestScoping() is not installed before this handler");
  return scope;
}
