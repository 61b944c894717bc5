// The real auth subgraph for the gateway's tests, plus what a test needs to reach behind it:
// calling it directly, and signing tokens with its own key (to make an expired one).
import { authService, loadEnv as loadAuthEnv } from "@ticketing/auth";
import { createLogger } from "@ticketing/shared-runtime";
import { infra, natsUrlFor, uniqueName } from "@ticketing/testkit";
import { decodeJwt, importJWK, SignJWT } from "jose";
import mongoose from "mongoose";
import type { GraphQLResponse } from "./support.js";

export interface RunningAuth {
  baseUrl: string;
  query(query: string, token?: string): Promise<Omit<GraphQLResponse, "setCookies" | "headers">>;
  sessionIdOf(token: string): Promise<string>;
  signToken(claims: { sub: string; sid: string; expiresInSeconds: number }): Promise<string>;
  stop(): Promise<void>;
}

export async function startAuth(extra: Record<string, string> = {}): Promise<RunningAuth> {
  const database = uniqueName("auth");
  const env = loadAuthEnv({
    MONGO_URL: infra().mongoUrl,
    NATS_URL: natsUrlFor("auth"),
    REDIS_URL: infra().redisUrl,
    LOG_LEVEL: "silent",
    ...extra,
  });
  const service = await authService.start(env, { database, logger: createLogger("auth", "silent") });
  const { port } = await service.listen(0, "127.0.0.1");
  const baseUrl = `http://127.0.0.1:${port}`;
  const keys = await mongoose.createConnection(infra().mongoUrl, { dbName: database }).asPromise();

  return {
    baseUrl,
    async query(query, token) {
      const response = await fetch(`${baseUrl}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query }),
      });
      return { status: response.status, ...((await response.json()) as object) };
    },
    sessionIdOf: (token) => Promise.resolve(String(decodeJwt(decodeURIComponent(token)).sid)),
    async signToken({ sub, sid, expiresInSeconds }) {
      const stored = await keys
        .db!.collection<{ _id: string; kid: string; alg: string; privateJwk: object }>("signing_keys")
        .findOne({ _id: "current" });
      if (!stored) throw new Error("auth has no signing key");
      const key = await importJWK(stored.privateJwk as Parameters<typeof importJWK>[0], stored.alg);
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ sid, roles: ["USER"] })
        .setProtectedHeader({ alg: stored.alg, kid: stored.kid, typ: "JWT" })
        .setSubject(sub)
        .setIssuer("ticketing-auth")
        .setAudience("ticketing")
        .setIssuedAt(now - 900)
        .setExpirationTime(now + expiresInSeconds)
        .sign(key);
    },
    async stop() {
      await keys.close();
      await service.close();
    },
  };
}
