import "reflect-metadata";
import { createServer as createHttpServer } from "node:http";
import { isIP, type AddressInfo } from "node:net";
import {
  createSubgraphServer,
  requestScope,
  type ReadinessOptions,
  type SubgraphServer,
  type TokenVerifier,
} from "@ticketing/shared-runtime";
import express, { type Express, type Request, type Response } from "express";
import type { Logger } from "pino";
import type { Accounts } from "./accounts.js";
import type { PasswordResets } from "./password-resets.js";
import type { ApiKeys } from "./api-keys.js";
import type { AuthContext, SessionHandoff } from "./schema/context.js";
import { buildAuthSchema } from "./schema/index.js";
import { bearerToken, type TokenService } from "./tokens.js";

export const SESSION_TOKEN_HEADER = "x-session-token";
export const SESSION_EXPIRES_HEADER = "x-session-expires";
export const CLIENT_IP_HEADER = "x-client-ip";
export const JWKS_PATH = "/.well-known/jwks.json";
export const RENEW_PATH = "/sessions/renew";
/** Internal: the gateway asks whether an `x-api-key` is valid (body `{ key }`). */
export const API_KEY_VERIFY_PATH = "/api-keys/verify";

export interface ServerDependencies {
  accounts: Accounts;
  apiKeys: ApiKeys;
  passwordResets: PasswordResets;
  tokens: TokenService;
  verifier: TokenVerifier;
  logger: Logger;
  /** What `/readyz` checks. */
  readiness: ReadinessOptions;
  introspection: boolean;
}

export type AuthServer = SubgraphServer<{
  accounts: Accounts;
  apiKeys: ApiKeys;
  passwordResets: PasswordResets;
  user: AuthContext["user"];
  handoff: SessionHandoff;
  clientAddress: string;
}>;

function handoffFor(res: Response): SessionHandoff {
  return {
    set(token, expiresAt) {
      res.setHeader(SESSION_TOKEN_HEADER, token);
      res.setHeader(SESSION_EXPIRES_HEADER, expiresAt.toISOString());
      res.setHeader("cache-control", "no-store");
    },
    clear() {
      res.setHeader(SESSION_TOKEN_HEADER, "");
      res.removeHeader(SESSION_EXPIRES_HEADER);
      res.setHeader("cache-control", "no-store");
    },
  };
}

/** The gateway's `x-client-ip` when it is an IP address, else the peer's address. */
export function clientAddress(req: Request): string {
  const forwarded = req.get(CLIENT_IP_HEADER)?.trim();
  const address = forwarded && isIP(forwarded) ? forwarded : (req.socket.remoteAddress ?? "unknown");
  return address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

const JWKS_CACHE_CONTROL = "public, max-age=300";

function routes(accounts: Accounts, apiKeys: ApiKeys, tokens: TokenService) {
  return (app: Express) => {
    app.get(JWKS_PATH, (_req, res) => {
      res.setHeader("cache-control", JWKS_CACHE_CONTROL);
      res.json(tokens.jwks);
    });

    app.post(RENEW_PATH, async (req, res) => {
      res.setHeader("cache-control", "no-store");
      const token = bearerToken(req.get("authorization"));
      try {
        const renewal = token ? await accounts.renew(token) : null;
        if (!renewal) {
          res.status(401).json({ error: "session ended" });
          return;
        }
        res.json({ token: renewal.token, expiresAt: renewal.expiresAt.toISOString() });
      } catch (err) {
        requestScope(req).logger.error({ err }, "session renewal failed");
        res.status(503).json({ error: "unavailable" });
      }
    });

    app.post(API_KEY_VERIFY_PATH, express.json({ limit: "1kb" }), async (req, res) => {
      res.setHeader("cache-control", "no-store");
      const key = (req.body as { key?: unknown } | undefined)?.key;
      try {
        const verified = typeof key === "string" ? await apiKeys.verify(key) : null;
        if (!verified) {
          res.status(404).json({ error: "unknown or revoked key" });
          return;
        }
        res.json(verified);
      } catch (err) {
        requestScope(req).logger.error({ err }, "API key verification failed");
        res.status(503).json({ error: "unavailable" });
      }
    });
  };
}

/** The auth subgraph over HTTP: `/graphql`, the JWKS, session renewal and the probes. */
export async function createServer(deps: ServerDependencies): Promise<AuthServer> {
  const { accounts, apiKeys, passwordResets, tokens, verifier, logger, readiness, introspection } = deps;
  const { schema } = await buildAuthSchema();
  const server = createSubgraphServer({
    name: "auth",
    schema,
    logger,
    verifier,
    introspection,
    context: ({ req, res }) => ({
      accounts,
      apiKeys,
      passwordResets,
      user: memoize((id: string) => accounts.user(id)),
      handoff: handoffFor(res),
      clientAddress: clientAddress(req),
    }),
    readiness,
    routes: routes(accounts, apiKeys, tokens),
  });
  return server;
}

function memoize<T>(load: (id: string) => Promise<T>): (id: string) => Promise<T> {
  const loaded = new Map<string, Promise<T>>();
  return (id) => {
    let value = loaded.get(id);
    if (!value) loaded.set(id, (value = load(id)));
    return value;
  };
}

export interface JwksListener {
  port: number;
  close(): Promise<void>;
}

/**
 * The JWKS alone on a port of its own (`JWKS_PORT`): `GET /.well-known/jwks.json`, 404 for
 * anything else. The other services fetch the keys here, so a network policy can open this port
 * to them and keep auth's API to the gateway.
 */
export async function serveJwks(tokens: TokenService, port: number, host: string): Promise<JwksListener> {
  const body = JSON.stringify(tokens.jwks);
  const server = createHttpServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path === JWKS_PATH && (req.method === "GET" || req.method === "HEAD")) {
      res.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(body),
        "cache-control": JWKS_CACHE_CONTROL,
      });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    res.writeHead(404, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify({ error: `only GET ${JWKS_PATH} is served on this port` }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
