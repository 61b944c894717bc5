// Forgotten passwords: a time-limited, single-use link. The token is 32 random bytes; only its
// SHA-256 is stored. Asking answers the same whether or not an account has the email. No mail
// server is configured, so the link is written to this service's log (a warning) for whoever runs
// it; a deployment with mail would send it from here instead.
import { createHash, randomBytes } from "node:crypto";
import { badUserInput } from "@ticketing/shared-runtime";
import type { Logger } from "pino";
import type { CredentialRepository } from "./data/credentials.js";
import type { SessionLog } from "./data/logs.js";
import type { PasswordResetStore } from "./data/password-resets.js";
import type { SignInLimiter } from "./rate-limit.js";
import { hashPassword } from "./passwords.js";
import { isValidEmail, normaliseEmail, validatePassword } from "./validation.js";

export const INVALID_RESET_LINK = "This reset link is invalid, used or expired: ask for a new one";

/** What the page is told after a request: the same for every email. */
export interface ResetRequested {
  message: string;
  /** Outside production only: where the link went, since no mail server is configured. */
  developmentNote: string | null;
}

export interface PasswordResets {
  /** RATE_LIMITED past a few requests an hour per email or client address. */
  request(email: string, from: { clientAddress: string; requestId?: string }): Promise<ResetRequested>;
  /** Sets the new password and ends every session of the account; BAD_USER_INPUT on a bad token. */
  reset(token: string, password: string, requestId?: string): Promise<void>;
}

export interface PasswordResetsOptions {
  store: PasswordResetStore;
  credentials: CredentialRepository;
  sessions: SessionLog;
  limiter: SignInLimiter;
  logger: Logger;
  /** How long a link works. */
  ttlMs: number;
  /** The SPA's origin, for the link. */
  publicOrigin: string;
  development: boolean;
  now?: () => number;
}

const hashOf = (token: string) => createHash("sha256").update(token).digest("hex");

export function createPasswordResets({
  store,
  credentials,
  sessions,
  limiter,
  logger,
  ttlMs,
  publicOrigin,
  development,
  now = Date.now,
}: PasswordResetsOptions): PasswordResets {
  const answer: ResetRequested = {
    message: "If an account has this email, a link to choose a new password is on its way.",
    developmentNote: development
      ? "No mail server is configured here: the link is written to the auth service's log."
      : null,
  };

  return {
    async request(email, { clientAddress, requestId }) {
      const normalised = normaliseEmail(email);
      await limiter.attempt({ email: normalised, address: clientAddress });
      const credential = isValidEmail(normalised) ? await credentials.byEmail(normalised) : null;
      if (!credential) {
        logger.info({ requestId }, "password reset asked for an email without an account");
        return answer;
      }
      const token = randomBytes(32).toString("base64url");
      const createdAt = new Date(now());
      const expiresAt = new Date(createdAt.getTime() + ttlMs);
      await store.save({
        _id: hashOf(token),
        userId: credential.userId,
        email: normalised,
        createdAt,
        expiresAt,
      });
      const link = `${publicOrigin.replace(/\/$/, "")}/reset-password?token=${token}`;
      logger.warn(
        { requestId, userId: credential.userId, resetLink: link, expiresAt: expiresAt.toISOString() },
        "no mail server is configured: the password reset link is written here instead of sent",
      );
      return answer;
    },

    async reset(token, password, requestId) {
      validatePassword(password);
      const tokenHash = hashOf(token);
      const request = token ? await store.find(tokenHash) : null;
      if (!request || request.expiresAt.getTime() <= now()) throw badUserInput(INVALID_RESET_LINK, "token");
      // The insert is the commit: of two uses racing, one wins.
      if (!(await store.redeem(tokenHash))) throw badUserInput(INVALID_RESET_LINK, "token");
      await store.setPasswordHash(request.email, await hashPassword(password));
      for (const sessionId of await store.openSessions(request.userId)) {
        await sessions.execute(
          sessionId,
          (session) =>
            session && !session.revoked
              ? { subject: "ticketing.session.revoked", data: { sessionId, userId: session.userId } }
              : null,
          { requestId },
        );
      }
      logger.info(
        { requestId, userId: request.userId },
        "password reset; every session of the account ended",
      );
    },
  };
}
