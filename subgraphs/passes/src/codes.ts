// A pass's QR payload: `P1.<payload>.<signature>`, the payload base64url JSON of the pass id, its
// issue, its event and the time step it was made in, signed with Ed25519 by the service's key. A
// scanner with the public key can check signature, event and window offline (docs/adr/0007).
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";

const VERSION = "P1";
/** Far more than a code ever is (about 230 characters): anything longer is not one. */
const MAX_CODE_LENGTH = 1_000;

/** The key as stored: its private half as PKCS#8 PEM, its public half as a JWK's `x`. */
export interface StoredPassKey {
  keyId: string;
  privateKeyPem: string;
  x: string;
  createdAt: Date;
}

export interface CodeClaims {
  passId: string;
  issue: number;
  eventId: string;
  step: number;
}

export type ReadCode = { ok: true; claims: CodeClaims } | { ok: false; refusal: "MALFORMED" | "FORGED" };

export interface PublicPassKey {
  keyId: string;
  algorithm: "Ed25519";
  /** The raw 32-byte public key, base64url (a JWK's `x`). */
  publicKey: string;
  jwk: { kty: "OKP"; crv: "Ed25519"; x: string; kid: string; alg: "EdDSA"; use: "sig" };
  stepSeconds: number;
  windowSteps: number;
}

export interface Codes {
  /** The step a moment falls in. */
  stepAt(ms: number): number;
  /** The code of a pass's issue for the step `at` falls in. */
  make(pass: { id: string; issue: number; eventId: string }, at?: number): string;
  /** When a code made at `at` stops being accepted (the end of the window's last step). */
  expiresAt(at?: number): Date;
  /** Parses a code and checks its signature; says nothing yet of its event or its time. */
  read(code: string): ReadCode;
  /** Whether a code's step is within the window of the step `at` falls in. */
  fresh(claims: CodeClaims, at?: number): boolean;
  publicKey(): PublicPassKey;
}

/** A new key, as it is stored. */
export function newPassKey(): StoredPassKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const x = publicKey.export({ format: "jwk" }).x!;
  return {
    keyId: createHash("sha256").update(x).digest("base64url").slice(0, 16),
    privateKeyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    x,
    createdAt: new Date(),
  };
}

const isId = (value: unknown): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= 200;
const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

export function createCodes({
  key,
  stepSeconds,
  windowSteps,
}: {
  key: StoredPassKey;
  stepSeconds: number;
  windowSteps: number;
}): Codes {
  const privateKey: KeyObject = createPrivateKey(key.privateKeyPem);
  const publicKey: KeyObject = createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: key.x },
    format: "jwk",
  });
  const stepMs = stepSeconds * 1_000;
  const stepAt = (ms: number) => Math.floor(ms / stepMs);

  return {
    stepAt,

    make(pass, at = Date.now()) {
      const payload = Buffer.from(
        JSON.stringify({ p: pass.id, i: pass.issue, e: pass.eventId, t: stepAt(at) }),
      ).toString("base64url");
      const signed = `${VERSION}.${payload}`;
      return `${signed}.${sign(null, Buffer.from(signed), privateKey).toString("base64url")}`;
    },

    expiresAt: (at = Date.now()) => new Date((stepAt(at) + windowSteps + 1) * stepMs),

    read(code) {
      if (typeof code !== "string" || code.length > MAX_CODE_LENGTH)
        return { ok: false, refusal: "MALFORMED" };
      const parts = code.trim().split(".");
      if (parts.length !== 3 || parts[0] !== VERSION) return { ok: false, refusal: "MALFORMED" };
      const [, payload, signature] = parts as [string, string, string];
      let claims: unknown;
      try {
        claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
      } catch {
        return { ok: false, refusal: "MALFORMED" };
      }
      const { p, i, e, t } = (claims ?? {}) as Record<string, unknown>;
      if (!isId(p) || !isId(e) || !isCount(i) || !isCount(t)) return { ok: false, refusal: "MALFORMED" };
      const signatureBytes = Buffer.from(signature, "base64url");
      if (signatureBytes.length !== 64) return { ok: false, refusal: "FORGED" };
      if (!verify(null, Buffer.from(`${VERSION}.${payload}`), publicKey, signatureBytes)) {
        return { ok: false, refusal: "FORGED" };
      }
      return { ok: true, claims: { passId: p, issue: i, eventId: e, step: t } };
    },

    fresh: (claims, at = Date.now()) => Math.abs(stepAt(at) - claims.step) <= windowSteps,

    publicKey: () => ({
      keyId: key.keyId,
      algorithm: "Ed25519",
      publicKey: key.x,
      jwk: { kty: "OKP", crv: "Ed25519", x: key.x, kid: key.keyId, alg: "EdDSA", use: "sig" },
      stepSeconds,
      windowSteps,
    }),
  };
}
