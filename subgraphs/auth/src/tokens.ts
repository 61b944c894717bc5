import { createPublicKey, type KeyObject } from "node:crypto";
import { ROLES, TokenError, type Identity, type Role, type TokenVerifier } from "@ticketing/shared-runtime";
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
} from "jose";
import type { Logger } from "pino";
import { z } from "zod";
import type { SigningKeyRepository } from "./data/signing-keys.js";

export const ISSUER = "ticketing-auth";
export const AUDIENCE = "ticketing";
const ALG = "EdDSA";

export interface TokenClaims {
  userId: string;
  sessionId: string;
  roles: Role[];
}

export interface TokenService {
  /** The key id tokens are signed with now. */
  kid: string;
  /** The public keys, as served at `/.well-known/jwks.json`: the current key first. */
  jwks: JSONWebKeySet;
  /** A token for the session, living TOKEN_TTL_SECONDS but never past the session's end. */
  issue(claims: TokenClaims & { sessionEndsAt: Date }): Promise<string>;
  /**
   * The claims of a token signed with one of the published keys. `expiredForAtMostSeconds`
   * accepts a token that expired no longer ago than that (renewal); throws TokenError otherwise.
   */
  verify(token: string, options?: { expiredForAtMostSeconds?: number }): Promise<TokenClaims>;
}

const claimsSchema = z.object({
  sub: z.string().min(1),
  sid: z.string().min(1),
  roles: z
    .array(z.string())
    .transform((roles) => roles.filter((role): role is Role => ROLES.some((known) => known === role))),
});

/** The key that signs, and every public key that verifies (the signing one first). */
export interface KeyRing {
  signing: { kid: string; privateKey: CryptoKey | KeyObject };
  published: JWK[];
}

/** The configured keys (AUTH_SIGNING_KEY_*): current signs; current, next and previous verify. */
export interface ConfiguredKeys {
  current: KeyObject;
  next: KeyObject;
  previous?: KeyObject;
}

async function publicJwk(key: KeyObject): Promise<JWK & { kid: string }> {
  const { kty, crv, x } = createPublicKey(key).export({ format: "jwk" });
  const jwk = { kty, crv, x } as JWK;
  // The kid is the key's RFC 7638 thumbprint: the same key has the same id on every replica.
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: ALG, use: "sig" };
}

/** The key ring of configured keys: the JWKS lists current, next and (when set) previous. */
export async function configuredKeyRing(keys: ConfiguredKeys): Promise<KeyRing> {
  const current = await publicJwk(keys.current);
  const others = [keys.next, ...(keys.previous ? [keys.previous] : [])];
  return {
    signing: { kid: current.kid, privateKey: keys.current },
    published: [current, ...(await Promise.all(others.map(publicJwk)))],
  };
}

/**
 * The one key kept in MongoDB, created on first start (nothing configured: development, tests).
 * Of replicas starting together on an empty database, the first insert wins and the others adopt
 * its key.
 */
export async function storedKeyRing(repository: SigningKeyRepository, logger: Logger): Promise<KeyRing> {
  let stored = await repository.current();
  if (!stored) {
    const { privateKey, publicKey } = await generateKeyPair(ALG, { crv: "Ed25519", extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    stored = await repository.claimCurrent({
      kid,
      alg: ALG,
      privateJwk: { ...(await exportJWK(privateKey)), kid, alg: ALG },
      publicJwk: { ...publicJwk, kid, alg: ALG, use: "sig" },
      createdAt: new Date(),
    });
    logger.info({ kid: stored.kid, created: stored.kid === kid }, "signing key ready");
  }
  const privateKey = (await importJWK(stored.privateJwk as JWK, stored.alg)) as CryptoKey;
  return { signing: { kid: stored.kid, privateKey }, published: [stored.publicJwk] };
}

export function createTokenService(ring: KeyRing, { ttlSeconds }: { ttlSeconds: number }): TokenService {
  const { kid, privateKey } = ring.signing;
  const jwks: JSONWebKeySet = { keys: ring.published };
  const localJwks = createLocalJWKSet(jwks);

  return {
    kid,
    jwks,
    issue({ userId, sessionId, roles, sessionEndsAt }) {
      const now = Math.floor(Date.now() / 1000);
      const expires = Math.min(now + ttlSeconds, Math.floor(sessionEndsAt.getTime() / 1000));
      return new SignJWT({ sid: sessionId, roles })
        .setProtectedHeader({ alg: ALG, kid, typ: "JWT" })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(Math.max(expires, now))
        .sign(privateKey);
    },
    async verify(token, { expiredForAtMostSeconds = 0 } = {}) {
      let payload;
      try {
        ({ payload } = await jwtVerify(token, localJwks, {
          algorithms: [ALG],
          issuer: ISSUER,
          audience: AUDIENCE,
          clockTolerance: expiredForAtMostSeconds,
          requiredClaims: ["exp", "iat", "sub"],
        }));
      } catch (error) {
        if (error instanceof errors.JWTExpired) throw new TokenError("expired", "The token has expired");
        // The keys are local, so every failure of jose (an unknown kid too) is the token's own.
        if (error instanceof errors.JOSEError) throw new TokenError("invalid", "The token is invalid");
        throw error;
      }
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) throw new TokenError("invalid", "The token lacks its claims");
      return { userId: claims.data.sub, sessionId: claims.data.sid, roles: claims.data.roles };
    },
  };
}

const BEARER = /^Bearer +(\S+) *$/i;

/** The bearer token of an `Authorization` header, or null when there is none or it is not one. */
export function bearerToken(header: string | undefined): string | null {
  return (header && BEARER.exec(header)?.[1]) ?? null;
}

/**
 * The subgraph's verifier, with the key this process holds rather than its own JWKS over HTTP
 * (same keys, no request to itself). Refuses sessions that ended, as every service does.
 */
export function localTokenVerifier(
  tokens: TokenService,
  isSessionEnded: (sessionId: string) => Promise<boolean>,
): TokenVerifier {
  async function verifyToken(token: string): Promise<Identity> {
    const claims = await tokens.verify(token);
    if (await isSessionEnded(claims.sessionId)) throw new TokenError("revoked", "The session has ended");
    return claims;
  }
  return {
    verifyToken,
    async verifyAuthorization(header) {
      if (header === undefined || header.trim() === "") return null;
      const token = bearerToken(header);
      if (!token) throw new TokenError("malformed", "Authorization must be `Bearer <token>`");
      return verifyToken(token);
    },
  };
}
