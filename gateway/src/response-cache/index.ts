// The gateway's cache of public responses: queries from anonymous and API-key clients, served
// from memory, dropped per entity by the domain events the gateway follows, bounded by a TTL and
// an LRU, one execution per key at a time; GET and persisted queries also tell HTTP caches
// (partners' CDNs) they may keep the response for a few seconds, with an ETag to revalidate.
//
// Whom a response may be shared with: the cache key is the document's hash, the operation and
// the variables, and nothing about the client, because nothing else reaches the subgraphs for
// these requests (no token; an API key only raises the client's rate limit). What differs by
// client (rate limits, who may introspect, trusted documents, the cost limit) is decided before
// the cache is asked (`didResolveOperation`), so a refused client never reads an entry. A
// signed-in request neither reads nor fills the cache.
import { createHash } from "node:crypto";
import { HeaderMap, type ApolloServerPlugin, type GraphQLRequestListener } from "@apollo/server";
import type { GraphQLRequestContextWillSendResponse } from "@apollo/server";
import type { NatsConnection, Status } from "@nats-io/transport-node";
import { follow, type Follower } from "@ticketing/shared-events";
import { OperationTypeNode } from "graphql";
import type { Logger } from "pino";
import type { GatewayContext } from "../server.js";
import { responseTags } from "./entities.js";
import { FOLLOWED_SUBJECTS, tagsOf } from "./invalidation.js";
import { ResponseStore, type CachedResponse, type Fill } from "./store.js";

export interface ResponseCacheSettings {
  ttlSeconds: number;
  /** `max-age` for HTTP caches, which hear of no event: keep it short. */
  httpMaxAgeSeconds: number;
  maxEntries: number;
  maxBytes: number;
}

export interface ResponseCacheOptions {
  nats: NatsConnection;
  settings: ResponseCacheSettings;
  logger: Logger;
  /** Between two lines of statistics (only when there was traffic). */
  statsIntervalMs?: number;
}

export interface ResponseCache {
  plugin: ApolloServerPlugin<GatewayContext>;
  /** Drops every response (a new supergraph). */
  clear(): void;
  /** The stream sequence of the last event applied: no response older than it is served. */
  position(): number;
  close(): Promise<void>;
}

const RETRY_CAP_MS = 5_000;

/** `{"a":1,"b":[…]}` with keys sorted at every level: one key for one set of variables. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
}

function keyOf(queryHash: string, operationName: string | null, variables: unknown): string {
  return createHash("sha256")
    .update(`${queryHash}\n${operationName ?? ""}\n${canonicalJson(variables ?? {})}`)
    .digest("base64url");
}

/** `If-None-Match`: `*`, or a list of validators, weak ones compared weakly (RFC 9110 13.1.2). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((candidate) => {
    const tag = candidate.trim();
    return tag === "*" || tag.replace(/^W\//, "") === etag;
  });
}

export async function createResponseCache({
  nats,
  settings,
  logger,
  statsIntervalMs = 60_000,
}: ResponseCacheOptions): Promise<ResponseCache> {
  const store = new ResponseStore({
    ttlMs: settings.ttlSeconds * 1000,
    maxEntries: settings.maxEntries,
    maxBytes: settings.maxBytes,
  });
  let follower: Follower | undefined;
  /** Serving only while the events are followed: a response must never outlive its event unseen. */
  let following = false;
  let connected = true;
  let closed = false;
  const active = () => following && connected;

  function suspend(reason: string) {
    if (!active()) return;
    logger.warn({ reason }, "response cache suspended: domain events are not followed");
    store.clear();
  }

  async function startFollowing(): Promise<boolean> {
    try {
      const started = await follow(nats, FOLLOWED_SUBJECTS, { from: "new", logger }, (event) => {
        store.invalidate(tagsOf(event));
      });
      follower = started;
      following = true;
      void started.ended.then((error) => {
        if (!error) return;
        suspend("the NATS connection closed");
        following = false;
      });
      return true;
    } catch (error) {
      logger.warn({ err: error }, "cannot follow domain events; responses are not cached until it can");
      return false;
    }
  }

  async function keepTrying() {
    for (let attempt = 1; !closed; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_CAP_MS, 250 * 2 ** attempt)));
      if (!closed && (await startFollowing())) {
        if (closed) await follower?.stop();
        return;
      }
    }
  }

  // While NATS is away, events may be published that this process will only see later: nothing
  // is served meanwhile. The follower resumes after the last event it saw, so once it is back,
  // whatever was stored after the reconnection is dropped by the events it catches up on.
  const statuses = nats.status() as AsyncIterable<Status> & { stop?: () => void };
  void (async () => {
    for await (const status of statuses) {
      if (status.type === "disconnect") {
        suspend("NATS disconnected");
        connected = false;
      } else if (status.type === "reconnect" && !connected) {
        connected = true;
        if (active()) logger.info("response cache resumed");
      }
    }
  })();

  if (!(await startFollowing())) void keepTrying();

  const stats = setInterval(() => {
    store.sweep();
    const { hits, shared, misses, ...rest } = store.takeStats();
    const requests = hits + shared + misses;
    if (requests === 0) return;
    logger.info(
      { requests, hits, shared, misses, hitRatio: Number(((hits + shared) / requests).toFixed(3)), ...rest },
      "response cache",
    );
  }, statsIntervalMs);
  stats.unref();

  function eligible(context: GatewayContext): boolean {
    // `res` is absent for the gateway's own queries (live subscriptions), which must see the
    // subgraphs' current state and never an entry their event has not reached yet.
    return active() && context.res !== undefined && context.viewer === null && context.token === undefined;
  }

  /** What may be stored from a fill: data without errors, no cookie set on the way. */
  function outcomeOf(context: GraphQLRequestContextWillSendResponse<GatewayContext>) {
    const { response, contextValue, document, schema } = context;
    if (response.body.kind !== "single" || !document) return undefined;
    const { data, errors, extensions } = response.body.singleResult;
    if (errors?.length || !data || (response.http.status ?? 200) !== 200) return undefined;
    if (response.http.headers.has("set-cookie") || contextValue.res?.hasHeader("set-cookie"))
      return undefined;
    return {
      result: extensions ? { data, extensions } : { data },
      tags: responseTags(schema, document, context.operationName, context.request.variables, data),
    };
  }

  /** GET and persisted queries may be kept by HTTP caches; a GET that has it already gets 304. */
  function announce(context: GraphQLRequestContextWillSendResponse<GatewayContext>, cached: CachedResponse) {
    const { request, response, contextValue } = context;
    const get = request.http?.method === "GET";
    if (!get && request.extensions?.persistedQuery === undefined) return;
    response.http.headers.set("cache-control", `public, max-age=${settings.httpMaxAgeSeconds}`);
    response.http.headers.set("etag", cached.etag);
    // A shared cache must not answer a signed-in request with this anonymous answer.
    contextValue.res?.vary("Authorization").vary("Cookie");
    if (get && matchesEtag(request.http?.headers.get("if-none-match"), cached.etag)) {
      response.http.status = 304;
    }
  }

  function listener(): GraphQLRequestListener<GatewayContext> {
    let fill: Fill | undefined;
    let cached: CachedResponse | undefined;
    return {
      async responseForOperation(context) {
        const { operation, queryHash, operationName, request } = context;
        if (operation.operation !== OperationTypeNode.QUERY || !queryHash || !eligible(context.contextValue))
          return null;
        const acquired = await store.acquire(keyOf(queryHash, operationName, request.variables));
        if (acquired.kind === "fill") {
          fill = acquired.fill;
          return null;
        }
        cached = acquired.response;
        return { http: { headers: new HeaderMap() }, body: { kind: "single", singleResult: cached.result } };
      },
      willSendResponse(context) {
        if (fill) {
          cached = store.finish(fill, outcomeOf(context));
          fill = undefined;
        }
        if (cached) announce(context, cached);
        return Promise.resolve();
      },
    };
  }

  return {
    plugin: {
      requestDidStart: ({ contextValue }) => Promise.resolve(eligible(contextValue) ? listener() : undefined),
    },
    clear: () => store.clear(),
    position: () => follower?.position() ?? 0,
    async close() {
      closed = true;
      clearInterval(stats);
      statuses.stop?.();
      following = false;
      await follower?.stop();
      store.clear();
    },
  };
}
