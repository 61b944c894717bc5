// Persisted documents. Automatic persisted queries (APQ) for every client, kept in Redis so
// every replica knows a hash another one learnt; and the SPA's own documents, from a manifest
// `{ "<sha256 hex>": "<document>" }` its build writes (GraphQL Code Generator's client preset,
// `persistedDocuments`), known to the gateway from the start. In trusted-documents mode the
// SPA's origin may run only those; partners with a key may send any valid document.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import type { ApolloServerPlugin } from "@apollo/server";
import { cacheCounters } from "@ticketing/shared-runtime";
import { GraphQLError } from "graphql";
import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { Client } from "./api-keys.js";
import { readCookie, SESSION_COOKIE } from "./session.js";

export interface PersistedDocuments {
  get(hash: string): string | undefined;
  has(hash: string): boolean;
  readonly size: number;
}

export const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");

/** Reads the manifest; a missing file is an empty one, an entry whose hash is not its document's is skipped. */
export function loadPersistedDocuments(path: string, logger: Logger): PersistedDocuments {
  const documents = new Map<string, string>();
  if (existsSync(path)) {
    const manifest = JSON.parse(readFileSync(path, "utf8")) as unknown;
    if (typeof manifest !== "object" || manifest === null || Array.isArray(manifest)) {
      throw new Error(`${path} is not a persisted-documents manifest ({ "<sha256>": "<document>" })`);
    }
    for (const [hash, document] of Object.entries(manifest)) {
      if (typeof document === "string" && sha256Hex(document) === hash.toLowerCase()) {
        documents.set(hash.toLowerCase(), document);
      } else {
        logger.warn({ hash, path }, "persisted document skipped: its hash is not the SHA-256 of its text");
      }
    }
    logger.info({ path, documents: documents.size }, "persisted documents loaded");
  }
  return {
    get: (hash) => documents.get(hash.toLowerCase()),
    has: (hash) => documents.has(hash.toLowerCase()),
    size: documents.size,
  };
}

/** The cache Apollo Server keeps APQ in (its KeyValueCache, structurally). */
export interface DocumentCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, options?: { ttl?: number | null }): Promise<void>;
  delete(key: string): Promise<boolean | void>;
}

const APQ_TTL_SECONDS = 24 * 3600;

/**
 * The APQ store: the manifest first (it never expires), then Redis. Apollo prefixes the keys
 * (`apq:<hash>`). Redis unreachable means a miss, and the client sends the document again.
 */
export function persistedQueryCache(redis: Redis, documents: PersistedDocuments): DocumentCache {
  const hashIn = (key: string) => key.slice(key.lastIndexOf(":") + 1);
  const lookups = cacheCounters("persisted_queries");
  return {
    async get(key) {
      const known = documents.get(hashIn(key));
      if (known !== undefined) {
        lookups.hit.inc();
        return known;
      }
      const learnt = (await redis.get(`gateway:${key}`).catch(() => null)) ?? undefined;
      (learnt === undefined ? lookups.miss : lookups.hit).inc();
      return learnt;
    },
    async set(key, value, options) {
      if (documents.has(hashIn(key))) return;
      const ttl = options?.ttl ?? APQ_TTL_SECONDS;
      await redis.set(`gateway:${key}`, value, "EX", ttl).catch(() => undefined);
    },
    async delete(key) {
      await redis.del(`gateway:${key}`).catch(() => undefined);
    },
  };
}

/**
 * Whether a request comes from the SPA: its page's origin, a same-origin fetch, or the session
 * cookie (only the SPA's pages have it).
 */
export function isFirstParty(headers: { get(name: string): string | undefined }, spaOrigin: string): boolean {
  return (
    headers.get("origin") === spaOrigin ||
    headers.get("sec-fetch-site") === "same-origin" ||
    readCookie(headers.get("cookie"), SESSION_COOKIE) !== undefined
  );
}

/** Trusted documents: from the SPA, without a key, only the manifest's documents run. */
export function trustedDocumentsPlugin(
  documents: PersistedDocuments,
  spaOrigin: string,
): ApolloServerPlugin<{ client: Client }> {
  return {
    requestDidStart: () =>
      Promise.resolve({
        didResolveOperation({ request, queryHash, contextValue }) {
          if (contextValue.client.kind === "partner" || documents.has(queryHash)) return Promise.resolve();
          const headers = request.http?.headers;
          if (!headers || !isFirstParty(headers, spaOrigin)) return Promise.resolve();
          throw new GraphQLError(
            "This document is not one of the app's own; partners send theirs with an API key.",
            {
              extensions: { code: "FORBIDDEN", http: { status: 403 } },
            },
          );
        },
      }),
  };
}
