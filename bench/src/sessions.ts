import { randomUUID } from "node:crypto";
import { importJWK, SignJWT, type JWK } from "jose";
import { MongoClient } from "mongodb";

/**
 * Session cookies for `users` (that many new user ids, or the given ones), signed with the key auth
 * keeps in its database (as auth signs them), so a benchmark needs no thousand sign-ups, and can
 * act as accounts nobody can sign in as (the demo sellers). `roles` are the sessions' roles (an OPS
 * session creates events without an account). For benchmarks on private servers only.
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
    return Promise.all(
      subjects.map(async (subject) => {
        const token = await new SignJWT({ sid: randomUUID(), roles: [...roles] })
          .setProtectedHeader({ alg: stored.alg, kid: stored.kid, typ: "JWT" })
          .setSubject(subject)
          .setIssuer("ticketing-auth")
          .setAudience("ticketing")
          .setIssuedAt(now)
          .setExpirationTime(now + 3_600)
          .sign(key);
        return `session=${token}`;
      }),
    );
  } finally {
    await client.close();
  }
}
