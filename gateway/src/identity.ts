import type { NatsConnection } from "@nats-io/transport-node";
import {
  createTokenVerifier,
  watchRevokedSessions,
  type Logger,
  type TokenVerifier,
} from "@ticketing/shared-runtime";

/** Tokens live at most 15 minutes; a revocation older than that concerns expired tokens only. */
const REVOCATION_LOOKBACK_MS = 20 * 60_000;

/** Verifies auth's tokens and refuses the sessions revoked on the event stream. */
export async function createIdentity(
  nc: NatsConnection,
  jwksUrl: string,
  logger: Logger,
): Promise<{ verifier: TokenVerifier; stop(): Promise<void> }> {
  const revoked = await watchRevokedSessions(nc, { lookbackMs: REVOCATION_LOOKBACK_MS, logger });
  const verifier = createTokenVerifier({
    jwksUrl,
    issuer: "ticketing-auth",
    audience: "ticketing",
    isSessionRevoked: (sessionId) => revoked.isRevoked(sessionId),
  });
  return { verifier, stop: () => revoked.stop() };
}
