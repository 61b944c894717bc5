import type { Connection } from "mongoose";
import { isDuplicateKey } from "@ticketing/shared-events";
import { collection } from "./collections.js";

/** The key tokens are signed with, as JWKs. */
export interface StoredSigningKey {
  _id: string;
  kid: string;
  alg: string;
  privateJwk: Record<string, unknown>;
  publicJwk: Record<string, unknown>;
  createdAt: Date;
}

const CURRENT = "current";

export interface SigningKeyRepository {
  current(): Promise<StoredSigningKey | null>;
  /**
   * Stores `key` as the current key unless another replica stored one first; returns the key that
   * is current afterwards (the insert against `_id` decides the race).
   */
  claimCurrent(key: Omit<StoredSigningKey, "_id">): Promise<StoredSigningKey>;
}

export function signingKeyRepository(connection: Connection): SigningKeyRepository {
  const keys = collection<StoredSigningKey>(connection, "signing_keys");
  const current = () => keys.findOne({ _id: CURRENT });
  return {
    current,
    async claimCurrent(key) {
      const doc = { ...key, _id: CURRENT };
      try {
        await keys.insertOne(doc);
        return doc;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      const winner = await current();
      if (!winner) throw new Error("the current signing key vanished after a duplicate-key insert");
      return winner;
    },
  };
}
