// Partner API keys. A key is `tkt_<id>_<secret>`: the id finds the record by _id (the one lookup
// FerretDB indexes), the 256-bit random secret is stored only as its SHA-256, compared in
// constant time. Keys are created, listed and revoked by OPS; the gateway verifies them through
// `POST /api-keys/verify` and follows `apikey.revoked` to drop a revoked key at once.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { badUserInput, notFound, type Identity } from "@ticketing/shared-runtime";
import type { ApiKeyReads } from "./data/api-keys.js";
import type { ApiKeyLog } from "./data/logs.js";
import type { ApiKeyState } from "./domain/api-keys.js";

const KEY = /^tkt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
export const API_KEY_NAME_MAX = 80;
export const REQUESTS_PER_MINUTE_MAX = 100_000;

/** What the gateway needs to know about a valid key. */
export interface VerifiedApiKey {
  id: string;
  name: string;
  requestsPerMinute: number | null;
}

export interface CreatedApiKey {
  apiKey: ApiKeyState;
  /** The key itself: shown once, never stored. */
  key: string;
}

export interface ApiKeys {
  create(
    input: { name: string; requestsPerMinute?: number | null },
    by: Identity,
    requestId?: string,
  ): Promise<CreatedApiKey>;
  list(): Promise<ApiKeyState[]>;
  /** Revokes the key (again: no change); NOT_FOUND for an unknown id. */
  revoke(id: string, by: Identity, requestId?: string): Promise<ApiKeyState>;
  /** The key's identity when it is one of ours and not revoked, else null. */
  verify(key: string): Promise<VerifiedApiKey | null>;
}

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

export function createApiKeys(log: ApiKeyLog, reads: ApiKeyReads): ApiKeys {
  return {
    async create(input, by, requestId) {
      const name = input.name.trim();
      if (name.length < 1 || name.length > API_KEY_NAME_MAX) {
        throw badUserInput(`The name must be 1 to ${API_KEY_NAME_MAX} characters`, "input.name");
      }
      const requestsPerMinute = input.requestsPerMinute ?? null;
      if (
        requestsPerMinute !== null &&
        (!Number.isInteger(requestsPerMinute) ||
          requestsPerMinute < 1 ||
          requestsPerMinute > REQUESTS_PER_MINUTE_MAX)
      ) {
        throw badUserInput(
          `requestsPerMinute must be an integer from 1 to ${REQUESTS_PER_MINUTE_MAX}`,
          "input.requestsPerMinute",
        );
      }
      const id = randomBytes(8).toString("hex");
      const secret = randomBytes(32).toString("base64url");
      const result = await log.execute(
        id,
        (current) =>
          current
            ? null
            : {
                subject: "ticketing.apikey.created",
                data: { id, name, secretHash: sha256(secret), requestsPerMinute, createdBy: by.userId },
              },
        { requestId },
      );
      if (result.outcome !== "appended") throw new Error(`API key id ${id} is already taken`);
      return { apiKey: result.state, key: `tkt_${id}_${secret}` };
    },

    async list() {
      const keys = await reads.all();
      return keys.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    },

    async revoke(id, by, requestId) {
      const result = await log.execute(
        id,
        (current) =>
          current && current.revokedAt === null
            ? { subject: "ticketing.apikey.revoked", data: { id, revokedBy: by.userId } }
            : null,
        { requestId },
      );
      if (!result.state) throw notFound("No such API key");
      return result.state;
    },

    async verify(key) {
      const match = KEY.exec(key);
      if (!match) return null;
      const [, id, secret] = match as unknown as [string, string, string];
      const stored = await log.read(id);
      if (!stored || stored.revokedAt !== null) return null;
      const given = Buffer.from(sha256(secret), "hex");
      const expected = Buffer.from(stored.secretHash, "hex");
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      return { id: stored.id, name: stored.name, requestsPerMinute: stored.requestsPerMinute };
    },
  };
}
