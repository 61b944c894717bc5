// What auth keeps, declared once: each collection's documents and indexes as a mongoose schema.
// The one file of the package that imports mongoose; which paths go through mongoose and which
// through the driver collection is docs/adr/0002-mongoose-models.md.
import type { ProjectionDocument } from "@ticketing/shared-events";
import { Schema, type Connection } from "mongoose";
import { logSchema, SCHEMA_OPTIONS, withIndexes } from "@ticketing/shared-runtime";
import { API_KEY_LOG, type ApiKeyState } from "../domain/api-keys.js";
import { SESSION_LOG, type SessionState } from "../domain/sessions.js";
import { USER_LOG, type UserState } from "../domain/users.js";

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

/** The key tokens are signed with, as JWKs. */
export interface StoredSigningKey {
  _id: string;
  kid: string;
  alg: string;
  privateJwk: Record<string, unknown>;
  publicJwk: Record<string, unknown>;
  createdAt: Date;
}

export type UserDocument = ProjectionDocument<UserState>;
export type SessionDocument = ProjectionDocument<SessionState>;
export type ApiKeyDocument = ProjectionDocument<ApiKeyState>;

const userEvents = logSchema(USER_LOG.logCollection);
const sessionEvents = logSchema(SESSION_LOG.logCollection);
const apiKeyEvents = logSchema(API_KEY_LOG.logCollection);

/** Users, sessions and API keys are read by `_id` (and all API keys, for OPS): no other index. */
const users = new Schema<UserDocument>(
  {
    _id: String,
    id: String,
    email: String,
    displayName: String,
    roles: [String],
    version: Number,
    _causes: [String],
  } satisfies Record<keyof UserDocument, unknown>,
  { ...SCHEMA_OPTIONS, collection: USER_LOG.projectionCollection },
);

const sessions = new Schema<SessionDocument>(
  {
    _id: String,
    sessionId: String,
    userId: String,
    expiresAt: String,
    revoked: Boolean,
    version: Number,
    _causes: [String],
  } satisfies Record<keyof SessionDocument, unknown>,
  { ...SCHEMA_OPTIONS, collection: SESSION_LOG.projectionCollection },
);

const apiKeys = new Schema<ApiKeyDocument>(
  {
    _id: String,
    id: String,
    name: String,
    secretHash: String,
    requestsPerMinute: Number,
    createdBy: String,
    createdAt: String,
    revokedAt: String,
    version: Number,
    _causes: [String],
  } satisfies Record<keyof ApiKeyDocument, unknown>,
  { ...SCHEMA_OPTIONS, collection: API_KEY_LOG.projectionCollection },
);

/** Written through mongoose (validated) once per account; the insert by `_id` claims the email. */
const credentials = new Schema<Credential>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    passwordHash: { type: String, required: true },
    displayName: { type: String, required: true },
    createdAt: { type: Date, required: true },
  } satisfies Record<keyof Credential, unknown>,
  { ...SCHEMA_OPTIONS, collection: "credentials" },
);

/**
 * Written through mongoose (validated) once per deployment; the insert by `_id` decides which
 * replica's key is current. The JWKs are stored exactly as given (`minimize: false`).
 */
const signingKeys = new Schema<StoredSigningKey>(
  {
    _id: { type: String, required: true },
    kid: { type: String, required: true },
    alg: { type: String, required: true },
    privateJwk: { type: Schema.Types.Mixed, required: true },
    publicJwk: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
  } satisfies Record<keyof StoredSigningKey, unknown>,
  { ...SCHEMA_OPTIONS, minimize: false, collection: "signing_keys" },
);

/**
 * Compiles the models on the service's connection and creates their indexes before anything uses
 * them: mongoose sends one `createIndex` per index, one after another (FerretDB drops the
 * connection on a `createIndexes` naming two or more that exist).
 */
export async function openModels(connection: Connection) {
  return withIndexes({
    userEvents: connection.model("UserEvent", userEvents),
    users: connection.model("User", users),
    sessionEvents: connection.model("SessionEvent", sessionEvents),
    sessions: connection.model("Session", sessions),
    apiKeyEvents: connection.model("ApiKeyEvent", apiKeyEvents),
    apiKeys: connection.model("ApiKey", apiKeys),
    credentials: connection.model("Credential", credentials),
    signingKeys: connection.model("SigningKey", signingKeys),
  });
}

export type AuthModels = Awaited<ReturnType<typeof openModels>>;
