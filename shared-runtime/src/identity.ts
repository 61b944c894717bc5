import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { createTokenVerifier, type TokenVerifier } from "./auth.js";
import { watchRevokedSessions } from "./revocations.js";

/** Who signs the tokens every process checks, and for whom. */
export const TOKEN_ISSUER = "ticketing-auth";
export const TOKEN_AUDIENCE = "ticketing";

/** Tokens live at most 15 minutes; a revocation older than that concerns expired tokens only. */
const REVOCATION_LOOKBACK_MS = 20 * 60_000;

export interface ProcessIdentity {
  verifier: TokenVerifier;
  stop(): Promise<void>;
}

/**
 * How a process other than auth checks auth's tokens: the signature against auth's JWKS, issuer
 * and audience, and the sessions revoked on the event stream.
 */
export async function createIdentity(
  nc: NatsConnection,
  jwksUrl: string,
  logger: Logger,
): Promise<ProcessIdentity> {
  const revoked = await watchRevokedSessions(nc, { lookbackMs: REVOCATION_LOOKBACK_MS, logger });
  const verifier = createTokenVerifier({
    jwksUrl,
    issuer: TOKEN_ISSUER,
    audience: TOKEN_AUDIENCE,
    isSessionRevoked: (sessionId) => revoked.isRevoked(sessionId),
  });
  return { verifier, stop: () => revoked.stop() };
}
