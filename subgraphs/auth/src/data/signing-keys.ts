import { isDuplicateKey } from "@ticketing/shared-events";
import type { AuthModels, StoredSigningKey } from "./models.js";

export type { StoredSigningKey } from "./models.js";

const CURRENT = "current";

export interface SigningKeyRepository {
  current(): Promise<StoredSigningKey | null>;
  /**
   * Stores `key` as the current key unless another replica stored one first; returns the key that
   * is current afterwards (the insert against `_id` decides the race).
   */
  claimCurrent(key: Omit<StoredSigningKey, "_id">): Promise<StoredSigningKey>;
}

export function signingKeyRepository({ signingKeys }: Pick<AuthModels, "signingKeys">): SigningKeyRepository {
  const current = () => signingKeys.findById(CURRENT).lean().exec();
  return {
    current,
    async claimCurrent(key) {
      const doc = { ...key, _id: CURRENT };
      try {
        await signingKeys.create(doc);
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
