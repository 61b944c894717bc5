import { isDuplicateKey } from "@ticketing/shared-events";
import type { AuthModels, Credential } from "./models.js";

export type { Credential } from "./models.js";

export interface CredentialRepository {
  /** Inserts the credential; false when its email is already taken. */
  claim(credential: Credential): Promise<boolean>;
  byEmail(email: string): Promise<Credential | null>;
}

export function credentialRepository({ credentials }: Pick<AuthModels, "credentials">): CredentialRepository {
  return {
    async claim(credential) {
      try {
        // One insert: the email's `_id` is what makes a second claim a duplicate key.
        await credentials.create(credential);
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    },
    byEmail: (email) => credentials.findById(email).lean().exec(),
  };
}
