import { randomUUID } from "node:crypto";
import type { LogDocument } from "@ticketing/shared-events";
import { importJWK, SignJWT, type JWK } from "jose";
import { MongoClient } from "mongodb";

/** How long a minted session lasts: longer than any benchmark. */
const SESSION_SECONDS = 3_600;

/**
 * Session cookies for `users` (that many new user ids, or the given ones), signed with the key auth
 * keeps in its database (as auth signs them), so a benchmark needs no thousand sign-ups, and can
 * act as accounts nobody can sign in as (the demo sellers). Each session's start is written to
 * auth's session log, as a sign-in writes it, so auth knows the session as every other service
 * does (it refuses a token whose session it has no record of). `roles` are the sessions' roles (an
 * OPS session creates events without an account). For benchmarks on private servers only.
 */
export async function mintSessions(
  mongoUrl: string,
  users: number | readonly string[],
  roles: readonly string[] = ["USER"],
): Promise<string[]> {
  const subjects = typeof users === "number" ? Array.from({ length: users }, () => randomUUID()) : users;
  const client = await new MongoClient(mongoUrl).connect();
  try {
    const stored = await client
      .db("ticketing-auth")
      .collection<{ _id: string; kid: string; alg: string; privateJwk: JWK }>("signing_keys")
      .findOne({ _id: "current" });
    if (!stored) throw new Error("auth has no signing key yet");
    const key = await importJWK(stored.privateJwk, stored.alg);
    const now = Math.floor(Date.now() / 1000);
    const sessions = subjects.map((userId) => ({ userId, sessionId: randomUUID() }));
    const expiresAt = new Date((now + SESSION_SECONDS) * 1000).toISOString();
    // Unpublished and unprojected, as a commit leaves them: auth's sweeps do the rest.
    const started: LogDocument[] = sessions.map(({ userId, sessionId }) => ({
      _id: `${sessionId}:1`,
      eventId: randomUUID(),
      aggregateId: sessionId,
      version: 1,
      subject: "ticketing.session.started",
      data: { sessionId, userId, expiresAt },
      occurredAt: new Date(now * 1000),
      causationId: null,
      requestId: null,
      published: false,
      projected: false,
    }));
    if (started.length > 0) {
      await client.db("ticketing-auth").collection<LogDocument>("session_events").insertMany(started);
    }
    return Promise.all(
      sessions.map(async ({ userId: subject, sessionId }) => {
        const token = await new SignJWT({ sid: sessionId, roles: [...roles] })
          .setProtectedHeader({ alg: stored.alg, kid: stored.kid, typ: "JWT" })
          .setSubject(subject)
          .setIssuer("ticketing-auth")
          .setAudience("ticketing")
          .setIssuedAt(now)
          .setExpirationTime(now + SESSION_SECONDS)
          .sign(key);
        return `session=${token}`;
      }),
    );
  } finally {
    await client.close();
  }
}
