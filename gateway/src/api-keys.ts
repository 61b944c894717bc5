// Who is calling the public graph: a partner with an API key (`x-api-key`), or an anonymous
// client known by its address. Keys are verified by auth (`POST /api-keys/verify`) and kept here
// for a minute; `apikey.revoked` on the event stream drops a revoked key at once.
import { createHash } from "node:crypto";
import { isIP } from "node:net";
import type { NatsConnection } from "@nats-io/transport-node";
import { follow, type Follower } from "@ticketing/shared-events";
import type { Logger } from "pino";

export const API_KEY_HEADER = "x-api-key";
/** Keys are 64 characters; anything much longer is refused without asking auth. */
export const API_KEY_MAX_BYTES = 256;

export type Client =
  | { kind: "partner"; keyId: string; name: string; requestsPerMinute: number | null }
  | { kind: "anonymous"; address: string };

export interface PartnerKey {
  id: string;
  name: string;
  requestsPerMinute: number | null;
}

export interface ApiKeys {
  /** The key's partner, or null for a key that is unknown or revoked. Throws when auth cannot tell. */
  verify(key: string): Promise<PartnerKey | null>;
  stop(): Promise<void>;
}

export interface ApiKeysOptions {
  /** auth's base URL. */
  authUrl: string;
  /** To follow `apikey.revoked`; without it a revocation takes effect when the cache entry expires. */
  nc?: NatsConnection;
  logger: Logger;
  /** How long a valid key is trusted without asking auth again. */
  ttlMs?: number;
  /** How long an unknown key is remembered as unknown. */
  unknownTtlMs?: number;
  maxEntries?: number;
}

interface Entry {
  key: PartnerKey | null;
  expiresAt: number;
}

const hashOf = (key: string) => createHash("sha256").update(key).digest("base64url");

export async function createApiKeys({
  authUrl,
  nc,
  logger,
  ttlMs = 60_000,
  unknownTtlMs = 10_000,
  maxEntries = 10_000,
}: ApiKeysOptions): Promise<ApiKeys> {
  const cache = new Map<string, Entry>();
  const pending = new Map<string, Promise<PartnerKey | null>>();
  // Kept for a cache lifetime, so that an answer from auth that crossed a revocation is not cached.
  const revokedAt = new Map<string, number>();

  function remember(hash: string, key: PartnerKey | null) {
    if (key && revokedAt.has(key.id)) key = null;
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    cache.set(hash, { key, expiresAt: Date.now() + (key ? ttlMs : unknownTtlMs) });
  }

  async function ask(key: string): Promise<PartnerKey | null> {
    const response = await fetch(`${authUrl}/api-keys/verify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key }),
      signal: AbortSignal.timeout(5_000),
    });
    // 404: unknown. 400 or 413: auth will not even read it, so no key like it exists.
    if (response.status === 404 || response.status === 400 || response.status === 413) return null;
    if (!response.ok) throw new Error(`API key verification answered ${response.status}`);
    return (await response.json()) as PartnerKey;
  }

  // From now on: a key revoked before is already refused by auth when it is next asked.
  let revocations: Follower | undefined;
  if (nc) {
    revocations = await follow(nc, "ticketing.apikey.revoked", { from: "new", logger }, (event) => {
      const { id } = event.data;
      revokedAt.set(id, Date.now());
      for (const [hash, entry] of cache) if (entry.key?.id === id) cache.delete(hash);
    });
  }
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [id, at] of revokedAt) if (at < now - 2 * ttlMs) revokedAt.delete(id);
    for (const [hash, entry] of cache) if (entry.expiresAt < now) cache.delete(hash);
  }, ttlMs);
  sweep.unref();

  return {
    async verify(key) {
      const hash = hashOf(key);
      const cached = cache.get(hash);
      if (cached && cached.expiresAt > Date.now()) return cached.key;
      let lookup = pending.get(hash);
      if (!lookup) {
        lookup = ask(key)
          .then((found) => {
            remember(hash, found);
            return found && !revokedAt.has(found.id) ? found : null;
          })
          .finally(() => pending.delete(hash));
        pending.set(hash, lookup);
      }
      try {
        return await lookup;
      } catch (error) {
        // auth unreachable: a key known before keeps working until auth answers again.
        if (cached?.key) return cached.key;
        throw error;
      }
    },
    async stop() {
      clearInterval(sweep);
      await revocations?.stop();
    },
  };
}

/** The client's address as a rate-limit key: IPv4 as is, IPv6 by its /64 (what one host gets). */
export function addressKey(address: string): string {
  const plain = address.startsWith("::ffff:") && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  if (isIP(plain) !== 6) return plain;
  const [head = "", tail = ""] = plain.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = plain.includes("::")
    ? [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(":")}::/64`;
}

/** Why a request's API key was refused. */
export type KeyRefusal = "unknown" | "unverifiable";

/**
 * Identifies the client of a request from its headers and address: what the HTTP route and a
 * WebSocket server's handshake both use. A key that is unknown, revoked or oversized is refused,
 * and so is a key auth cannot verify now: a request that sent a key is never downgraded to
 * anonymous (it would dodge the key's revocation, and be billed to nobody).
 */
export async function identifyClient(
  apiKeys: ApiKeys,
  apiKey: string | undefined,
  address: string,
  logger: Logger,
): Promise<Client | KeyRefusal> {
  if (apiKey === undefined || apiKey === "") return { kind: "anonymous", address: addressKey(address) };
  if (Buffer.byteLength(apiKey) > API_KEY_MAX_BYTES) return "unknown";
  try {
    const key = await apiKeys.verify(apiKey.trim());
    if (!key) return "unknown";
    return { kind: "partner", keyId: key.id, name: key.name, requestsPerMinute: key.requestsPerMinute };
  } catch (err) {
    logger.warn({ err }, "cannot verify an API key now; refusing the request");
    return "unverifiable";
  }
}
