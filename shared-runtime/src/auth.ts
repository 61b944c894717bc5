import { createRemoteJWKSet, errors, jwtVerify } from "jose";
import { z } from "zod";

export const ROLES = ["USER", "OPS", "STAFF"] as const;
export type Role = (typeof ROLES)[number];

export interface Identity {
  userId: string;
  roles: Role[];
  sessionId: string;
}

/** Who is asking: a verified identity, or null for an anonymous request. */
export type Viewer = Identity | null;

export type TokenFailure = "malformed" | "invalid" | "expired" | "revoked";

/** The token is the caller's problem (answer UNAUTHENTICATED), unlike an unreachable JWKS. */
export class TokenError extends Error {
  constructor(
    readonly reason: TokenFailure,
    message: string,
  ) {
    super(message);
    this.name = "TokenError";
  }
}

export interface TokenVerifierOptions {
  /** auth's `/.well-known/jwks.json`. */
  jwksUrl: string | URL;
  issuer?: string;
  audience?: string;
  /** Sessions ended by `session.revoked`; their still-unexpired tokens are refused. */
  isSessionRevoked?: (sessionId: string) => boolean | Promise<boolean>;
}

export interface TokenVerifier {
  /** The identity in a JWT; throws TokenError when it cannot be trusted. */
  verifyToken(token: string): Promise<Identity>;
  /** The viewer of an `Authorization` header: null when absent, an identity for a valid `Bearer` token. */
  verifyAuthorization(header: string | undefined): Promise<Viewer>;
}

const claimsSchema = z.object({
  sub: z.string().min(1),
  sid: z.string().min(1),
  // Roles this code does not know yet are dropped, so a new role in auth does not lock users out.
  roles: z
    .array(z.string())
    .transform((roles) => roles.filter((role): role is Role => ROLES.some((r) => r === role))),
});

// Errors that say the token is bad; anything else (network, a broken JWKS) is the verifier's problem.
const TOKEN_ERRORS = [
  errors.JWTClaimValidationFailed,
  errors.JWTInvalid,
  errors.JWSInvalid,
  errors.JWSSignatureVerificationFailed,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
  errors.JWKInvalid,
];

const BEARER = /^Bearer +(\S+) *$/i;

/** Verified tokens remembered per process, and for how long before their signature is checked again. */
const VERIFIED_TOKENS = 10_000;
const VERIFIED_FOR_MS = 5 * 60_000;

/**
 * Verifies auth's JWTs (EdDSA or ES256) against its JWKS, fetched on demand and cached. Claims:
 * `sub` is the user id, `sid` the session id, `roles` the roles.
 */
export function createTokenVerifier({
  jwksUrl,
  issuer,
  audience,
  isSessionRevoked,
}: TokenVerifierOptions): TokenVerifier {
  const jwks = createRemoteJWKSet(new URL(jwksUrl));
  /**
   * Tokens whose signature and claims were verified, with the identity they carry: a fan's
   * browser sends the same token with every request, and checking an EdDSA signature costs about
   * 0.3 ms of CPU each time. A token is checked again after `VERIFIED_FOR_MS` (a key auth has
   * since withdrawn is then noticed); its expiry and its session's revocation are checked on every
   * request.
   */
  const verified = new Map<string, { identity: Identity; expiresAt: number; checkAgainAt: number }>();

  async function verifyToken(token: string): Promise<Identity> {
    const now = Date.now();
    const known = verified.get(token);
    if (known && known.checkAgainAt > now) {
      if (known.expiresAt <= now) throw new TokenError("expired", "The token has expired");
      await refuseRevoked(known.identity.sessionId);
      return known.identity;
    }
    const identity = await verifySignature(token);
    await refuseRevoked(identity.sessionId);
    return identity;
  }

  async function refuseRevoked(sessionId: string) {
    if (isSessionRevoked && (await isSessionRevoked(sessionId))) {
      throw new TokenError("revoked", "The session has ended");
    }
  }

  async function verifySignature(token: string): Promise<Identity> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, jwks, { algorithms: ["EdDSA", "ES256"], issuer, audience }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new TokenError("expired", "The token has expired");
      if (TOKEN_ERRORS.some((type) => error instanceof type)) {
        throw new TokenError("invalid", "The token is invalid");
      }
      throw error;
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new TokenError("invalid", "The token lacks its claims");
    const { sub, sid, roles } = claims.data;
    const identity: Identity = { userId: sub, roles, sessionId: sid };
    if (typeof payload.exp === "number") {
      if (verified.size >= VERIFIED_TOKENS) verified.delete(verified.keys().next().value!);
      verified.set(token, {
        identity,
        expiresAt: payload.exp * 1_000,
        checkAgainAt: Date.now() + VERIFIED_FOR_MS,
      });
    }
    return identity;
  }

  async function verifyAuthorization(header: string | undefined): Promise<Viewer> {
    if (header === undefined || header.trim() === "") return null;
    const token = BEARER.exec(header)?.[1];
    if (!token) throw new TokenError("malformed", "Authorization must be `Bearer <token>`");
    return verifyToken(token);
  }

  return { verifyToken, verifyAuthorization };
}
