// Password resets through mongoose: the requests (by the SHA-256 of their token, never the token),
// the redemptions whose insert makes a token single-use, a new password hash on a credential, and
// the live sessions of a user (to end them). Reset traffic is rare: none of it is a browse path.
import { isDuplicateKey } from "@ticketing/shared-events";
import { SCHEMA_OPTIONS, withIndexes } from "@ticketing/shared-runtime";
import { Schema, type Connection } from "mongoose";
import type { AuthModels } from "./models.js";

export interface PasswordResetRequest {
  /** The SHA-256 (hex) of the token the link carries. */
  _id: string;
  userId: string;
  email: string;
  createdAt: Date;
  expiresAt: Date;
}

const requests = new Schema<PasswordResetRequest>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    email: { type: String, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  } satisfies Record<keyof PasswordResetRequest, unknown>,
  { ...SCHEMA_OPTIONS, collection: "password_resets" },
);

/** `_id` is the token's hash: the insert is what lets a token be used once only, on any server. */
const redemptions = new Schema<{ _id: string; at: Date }>(
  { _id: { type: String, required: true }, at: { type: Date, required: true } },
  { ...SCHEMA_OPTIONS, collection: "password_reset_redemptions" },
);

export interface PasswordResetStore {
  save(request: PasswordResetRequest): Promise<void>;
  find(tokenHash: string): Promise<PasswordResetRequest | null>;
  /** Marks the token used; false when it was used already. */
  redeem(tokenHash: string): Promise<boolean>;
  setPasswordHash(email: string, passwordHash: string): Promise<void>;
  /** Ids of the user's sessions not revoked (expired ones included: revoking them costs nothing). */
  openSessions(userId: string): Promise<string[]>;
}

export async function passwordResetStore(
  connection: Connection,
  { credentials, sessions }: Pick<AuthModels, "credentials" | "sessions">,
): Promise<PasswordResetStore> {
  const models = await withIndexes({
    requests: connection.model("PasswordResetRequest", requests),
    redemptions: connection.model("PasswordResetRedemption", redemptions),
  });
  return {
    async save(request) {
      await models.requests.create(request);
    },
    find: (tokenHash) => models.requests.findById(tokenHash).lean().exec(),
    async redeem(tokenHash) {
      try {
        await models.redemptions.create({ _id: tokenHash, at: new Date() });
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    },
    async setPasswordHash(email, passwordHash) {
      await credentials.updateOne({ _id: email }, { $set: { passwordHash } });
    },
    async openSessions(userId) {
      const found = await sessions.find({ userId, revoked: { $ne: true } }, { sessionId: 1 }).lean();
      return found.map((session) => session.sessionId);
    },
  };
}
