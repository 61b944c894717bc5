import { randomBytes, randomUUID } from "node:crypto";
import { badUserInput, TokenError, unauthenticated, type Role, type Viewer } from "@ticketing/shared-runtime";
import type { CredentialRepository } from "./data/credentials.js";
import type { SessionLog, UserLog } from "./data/logs.js";
import { isSessionLive } from "./domain/sessions.js";
import type { UserState } from "./domain/users.js";
import { hashPassword, verifyPassword } from "./passwords.js";
import type { SignInLimiter } from "./rate-limit.js";
import type { TokenService } from "./tokens.js";
import {
  isValidEmail,
  normaliseEmail,
  PASSWORD_MAX_LENGTH,
  validateSignUp,
  type SignUpFields,
} from "./validation.js";

export const WRONG_CREDENTIALS = "Wrong email or password";
const DAY_MS = 86_400_000;

/** A session just started: what the gateway gets to put in the `session` cookie. */
export interface StartedSession {
  user: UserState;
  token: string;
  expiresAt: Date;
}

export interface Renewal {
  token: string;
  expiresAt: Date;
}

export interface Accounts {
  signUp(input: SignUpFields, requestId?: string): Promise<StartedSession>;
  signIn(
    input: { email: string; password: string },
    request: { clientAddress: string; requestId?: string },
  ): Promise<StartedSession>;
  signOut(viewer: Viewer, requestId?: string): Promise<void>;
  /** A fresh token for a live session, given a token we signed (expired or not); null when there is none. */
  renew(token: string): Promise<Renewal | null>;
  user(id: string): Promise<UserState | null>;
  /** Creates accounts nobody can sign in to (a random password nobody knows), unless they exist. */
  seed(accounts: readonly { id: string; email: string; displayName: string }[]): Promise<void>;
  /** Whether a session no longer lets anyone in (revoked, expired or unknown). */
  isSessionEnded(sessionId: string): Promise<boolean>;
}

export interface AccountsOptions {
  credentials: CredentialRepository;
  users: UserLog;
  sessions: SessionLog;
  tokens: TokenService;
  limiter: SignInLimiter;
  opsEmails: readonly string[];
  /** Door staff: they may check passes in. */
  staffEmails?: readonly string[];
  sessionDays: number;
  /** Sessions revoked as other replicas learnt from `session.revoked`, ahead of our own read. */
  isRevoked?: (sessionId: string) => boolean;
  /** Users as the read model holds them: what queries and references resolve from. */
  readUser: (id: string) => UserState | null;
}

export function createAccounts({
  credentials,
  users,
  sessions,
  tokens,
  limiter,
  opsEmails,
  staffEmails = [],
  sessionDays,
  isRevoked = () => false,
  readUser,
}: AccountsOptions): Accounts {
  const ops = new Set(opsEmails.map(normaliseEmail));
  const sessionMs = sessionDays * DAY_MS;
  // Unknown emails are checked against this, so that they take as long as a wrong password. Made
  // now, so that the first unknown email does not pay for it.
  const dummyHash = hashPassword(randomBytes(16).toString("base64url"));
  dummyHash.catch(() => undefined);

  const staff = new Set(staffEmails.map(normaliseEmail));
  const rolesFor = (email: string): Role[] => [
    "USER",
    ...(ops.has(email) ? (["OPS"] as const) : []),
    ...(staff.has(email) ? (["STAFF"] as const) : []),
  ];

  /** Appends `user.registered` unless the user exists; safe to race with itself. */
  async function register(userId: string, email: string, displayName: string, requestId?: string) {
    const result = await users.execute(
      userId,
      (current) =>
        current
          ? null
          : {
              subject: "ticketing.user.registered",
              data: { id: userId, email, displayName, roles: rolesFor(email) },
            },
      { requestId },
    );
    if (!result.state) throw new Error(`user ${userId} is missing after its registration`);
    return result.state;
  }

  async function startSession(user: UserState, requestId?: string): Promise<StartedSession> {
    const sessionId = randomUUID();
    const expiresAt = new Date(Date.now() + sessionMs);
    await sessions.append(
      sessionId,
      0,
      {
        subject: "ticketing.session.started",
        data: { sessionId, userId: user.id, expiresAt: expiresAt.toISOString() },
      },
      { requestId },
    );
    const token = await tokens.issue({
      userId: user.id,
      sessionId,
      roles: user.roles,
      sessionEndsAt: expiresAt,
    });
    return { user, token, expiresAt };
  }

  return {
    async signUp(input, requestId) {
      const { email, password, displayName } = validateSignUp(input);
      const userId = randomUUID();
      const passwordHash = await hashPassword(password);
      const claimed = await credentials.claim({
        _id: email,
        userId,
        passwordHash,
        displayName,
        createdAt: new Date(),
      });
      if (!claimed) throw badUserInput("This email is already registered", "email");
      const user = await register(userId, email, displayName, requestId);
      return startSession(user, requestId);
    },

    async seed(accounts) {
      for (const account of accounts) {
        const email = normaliseEmail(account.email);
        await credentials.claim({
          _id: email,
          userId: account.id,
          passwordHash: await hashPassword(randomBytes(32).toString("base64url")),
          displayName: account.displayName,
          createdAt: new Date(),
        });
        await register(account.id, email, account.displayName);
      }
    },

    async signIn(input, { clientAddress, requestId }) {
      const email = normaliseEmail(input.email);
      await limiter.attempt({ email, address: clientAddress });
      // Inputs no account can have are not looked up, but still cost one hash, like any miss.
      const plausible =
        isValidEmail(email) && input.password.length <= 2 * PASSWORD_MAX_LENGTH && input.password.length > 0;
      const credential = plausible ? await credentials.byEmail(email) : null;
      const matches = await verifyPassword(
        plausible ? input.password : "",
        credential?.passwordHash ?? (await dummyHash),
      );
      if (!credential || !matches) throw unauthenticated(WRONG_CREDENTIALS);
      // A crash between claiming the email and registering the user left credentials alone: finish it.
      const user =
        (await users.load(credential.userId)) ??
        (await register(credential.userId, email, credential.displayName, requestId));
      return startSession(user, requestId);
    },

    async signOut(viewer, requestId) {
      if (!viewer) return;
      await sessions.execute(
        viewer.sessionId,
        (session) =>
          session && !session.revoked && session.userId === viewer.userId
            ? {
                subject: "ticketing.session.revoked",
                data: { sessionId: session.sessionId, userId: session.userId },
              }
            : null,
        { requestId },
      );
    },

    async renew(token) {
      // A token can be renewed as long after its expiry as any session lasts; the session decides.
      let claims;
      try {
        claims = await tokens.verify(token, { expiredForAtMostSeconds: Math.ceil(sessionMs / 1000) });
      } catch (error) {
        if (error instanceof TokenError) return null;
        throw error;
      }
      const session = await sessions.load(claims.sessionId);
      if (!isSessionLive(session) || session.userId !== claims.userId || isRevoked(session.sessionId)) {
        return null;
      }
      const user = await users.load(claims.userId);
      if (!user) return null;
      const expiresAt = new Date(session.expiresAt);
      return {
        token: await tokens.issue({
          userId: user.id,
          sessionId: session.sessionId,
          roles: user.roles,
          sessionEndsAt: expiresAt,
        }),
        expiresAt,
      };
    },

    user: (id) => Promise.resolve(readUser(id)),

    async isSessionEnded(sessionId) {
      return isRevoked(sessionId) || !isSessionLive(await sessions.load(sessionId));
    },
  };
}
