import type { Connection } from "mongoose";
import { isDuplicateKey } from "@ticketing/shared-events";
import { collection } from "./collections.js";

/**
 * What signing in checks. Keyed by the normalised email: inserting a credential is what claims an
 * email, the one uniqueness check that holds on FerretDB as on MongoDB.
 */
export interface Credential {
  _id: string;
  userId: string;
  passwordHash: string;
  /** Kept so that a user whose registration a crash interrupted can be registered at sign-in. */
  displayName: string;
  createdAt: Date;
}

export interface CredentialRepository {
  /** Inserts the credential; false when its email is already taken. */
  claim(credential: Credential): Promise<boolean>;
  byEmail(email: string): Promise<Credential | null>;
}

export function credentialRepository(connection: Connection): CredentialRepository {
  const credentials = collection<Credential>(connection, "credentials");
  return {
    async claim(credential) {
      try {
        await credentials.insertOne(credential);
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    },
    byEmail: (email) => credentials.findOne({ _id: email }),
  };
}
