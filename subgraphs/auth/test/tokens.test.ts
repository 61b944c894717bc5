import { connectMongo } from "@ticketing/shared-runtime";
import { infra, uniqueName } from "@ticketing/testkit";
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
} from "jose";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openModels } from "../src/data/models.js";
import { signingKeyRepository } from "../src/data/signing-keys.js";
import { createTokenService, storedKeyRing } from "../src/tokens.js";
import {
  ME,
  PASSWORD,
  SIGN_IN,
  SIGN_OUT,
  signUp,
  startAuth,
  type RunningAuth,
  type UserResult,
} from "./support.js";

const renew = (auth: RunningAuth, authorization?: string) =>
  fetch(`${auth.origin}/sessions/renew`, {
    method: "POST",
    headers: authorization === undefined ? {} : { authorization },
  });

const jwks = async (auth: RunningAuth) => {
  const response = await fetch(`${auth.origin}/.well-known/jwks.json`);
  return { response, body: (await response.json()) as JSONWebKeySet };
};

const silent = pino({ level: "silent" });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("tokens and the JWKS", () => {
  let auth: RunningAuth;
  beforeAll(async () => {
    auth = await startAuth();
  });
  afterAll(() => auth.close());

  it("serves the public key as a cacheable JWKS, without its private part", async () => {
    const { response, body } = await jwks(auth);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toMatch(/max-age=300/);
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(body.keys[0]?.kid).toBeTruthy();
    expect(body.keys[0]).not.toHaveProperty("d");
  });

  it("signs tokens that verify against the JWKS, with the claims and at most 15 minutes to live", async () => {
    const { user, token } = await signUp(auth);
    const keySet = createRemoteJWKSet(new URL(`${auth.origin}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(token, keySet, {
      issuer: "ticketing-auth",
      audience: "ticketing",
      algorithms: ["EdDSA"],
    });
    const { body } = await jwks(auth);
    expect(protectedHeader).toMatchObject({ alg: "EdDSA", kid: body.keys[0]?.kid });
    expect(payload).toMatchObject({ sub: user.id, roles: ["USER"], iss: "ticketing-auth", aud: "ticketing" });
    expect(payload.sid).toEqual(expect.any(String));
    const now = Math.floor(Date.now() / 1000);
    expect(payload.iat).toBeGreaterThanOrEqual(now - 5);
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(900);
    expect(payload.exp! - payload.iat!).toBeGreaterThan(0);
  });

  it("gives each sign-in its own session id", async () => {
    const { token, email } = await signUp(auth);
    const again = await auth.graphql(SIGN_IN, { variables: { input: { email, password: PASSWORD } } });
    const other = again.headers.get("x-session-token") ?? "";
    const sid = (jwt: string) =>
      (JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString()) as { sid: string }).sid;
    expect(sid(other)).not.toBe(sid(token));
  });

  it("renews a live session with a fresh token ending with the session", async () => {
    const { user, token, expires } = await signUp(auth);
    const response = await renew(auth, `Bearer ${token}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const body = (await response.json()) as { token: string; expiresAt: string };
    expect(body.expiresAt).toBe(expires);
    const me = await auth.graphql<{ me: UserResult }>(ME, { token: body.token });
    expect(me.data?.me?.id).toBe(user.id);
  });

  it("refuses to renew a revoked session", async () => {
    const { token } = await signUp(auth);
    await auth.graphql(SIGN_OUT, { token });
    const response = await renew(auth, `Bearer ${token}`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: "session ended" });
  });

  it("refuses to renew a forged, foreign or missing token with 401, never a 5xx", async () => {
    const { token } = await signUp(auth);
    const { body } = await jwks(auth);
    const [, payload] = token.split(".");
    // Our kid and claims, someone else's key.
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as Record<string, unknown>;
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: "EdDSA", kid: body.keys[0]?.kid ?? "" })
      .sign(privateKey);
    // Our signature with a changed payload.
    const tampered = token.replace(
      /\.[^.]+\./,
      `.${Buffer.from(JSON.stringify({ ...claims, roles: ["OPS"] })).toString("base64url")}.`,
    );
    const unsigned = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${payload}.`;

    for (const authorization of [
      `Bearer ${forged}`,
      `Bearer ${tampered}`,
      `Bearer ${unsigned}`,
      "Bearer not-a-token",
      `Basic ${token}`,
      "",
      undefined,
    ]) {
      const response = await renew(auth, authorization);
      expect(response.status, String(authorization)).toBe(401);
      expect(await response.json()).toEqual({ error: "session ended" });
    }
    // And the forged one gets nothing from the graph either.
    expect((await auth.graphql(ME, { token: forged })).status).toBe(401);
  });
});

describe("short tokens and short sessions", () => {
  it("renews an expired token while its session lives, and the new token works", async () => {
    const auth = await startAuth({ TOKEN_TTL_SECONDS: "1" });
    try {
      const { user, token } = await signUp(auth);
      await sleep(2_100);
      const expired = await auth.graphql(ME, { token });
      expect(expired.status).toBe(401);
      const response = await renew(auth, `Bearer ${token}`);
      expect(response.status).toBe(200);
      const { token: fresh } = (await response.json()) as { token: string };
      const me = await auth.graphql<{ me: UserResult }>(ME, { token: fresh });
      expect(me.data?.me?.id).toBe(user.id);
    } finally {
      await auth.close();
    }
  });

  it("refuses to renew once the session's lifetime is over", async () => {
    // 0.00003 days is about 2.6 s.
    const auth = await startAuth({ SESSION_DAYS: "0.00003" });
    try {
      const { token, expires } = await signUp(auth);
      const expiresAt = Date.parse(expires);
      expect(expiresAt - Date.now()).toBeLessThan(3_000);
      // The token does not outlive its session.
      const { exp } = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as {
        exp: number;
      };
      expect(exp * 1000).toBeLessThanOrEqual(expiresAt);
      expect((await renew(auth, `Bearer ${token}`)).status).toBe(200);
      await sleep(expiresAt - Date.now() + 500);
      const response = await renew(auth, `Bearer ${token}`);
      expect(response.status).toBe(401);
    } finally {
      await auth.close();
    }
  });
});

describe("the signing key", () => {
  it("is kept across a restart: same kid, and earlier tokens still verify", async () => {
    const database = uniqueName("auth_restart");
    const first = await startAuth({}, { database });
    let kid: string | undefined;
    let token: string;
    try {
      kid = (await jwks(first)).body.keys[0]?.kid;
      ({ token } = await signUp(first));
    } finally {
      await first.close();
    }
    const second = await startAuth({}, { database });
    try {
      expect(kid).toBeTruthy();
      expect((await jwks(second)).body.keys[0]?.kid).toBe(kid);
      expect(decodeProtectedHeader(token).kid).toBe(kid);
      const me = await second.graphql<{ me: UserResult }>(ME, { token });
      expect(me.status).toBe(200);
      expect(me.data?.me).not.toBeNull();
    } finally {
      await second.close();
    }
  });

  it("is one key for two services starting at once on a fresh database", async () => {
    const database = uniqueName("auth_race");
    const [a, b] = await Promise.all([startAuth({}, { database }), startAuth({}, { database })]);
    try {
      const [keysA, keysB] = await Promise.all([jwks(a), jwks(b)]);
      expect(keysA.body.keys).toHaveLength(1);
      expect(keysB.body).toEqual(keysA.body);
      // A token from one verifies at the other.
      const { token } = await signUp(a);
      expect((await b.graphql<{ me: UserResult }>(ME, { token })).data?.me).not.toBeNull();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("is one key for ten loads racing on a fresh database", async () => {
    const mongo = await connectMongo(infra().mongoUrl, uniqueName("auth_keys"), silent);
    try {
      const keys = signingKeyRepository(await openModels(mongo));
      const services = await Promise.all(
        Array.from({ length: 10 }, async () =>
          createTokenService(await storedKeyRing(keys, silent), { ttlSeconds: 900 }),
        ),
      );
      expect(new Set(services.map((service) => service.kid)).size).toBe(1);
      // Each signs with the one private key: every token verifies against the first one's keys.
      const tokens = await Promise.all(
        services.map((service) =>
          service.issue({
            userId: "u",
            sessionId: "s",
            roles: ["USER"],
            sessionEndsAt: new Date(Date.now() + 60_000),
          }),
        ),
      );
      for (const token of tokens)
        await expect(services[0]!.verify(token)).resolves.toMatchObject({ userId: "u" });
    } finally {
      await mongo.close();
    }
  });

  it("differs between databases, so the tests above can tell keys apart", async () => {
    const [a, b] = await Promise.all([startAuth(), startAuth()]);
    try {
      expect((await jwks(a)).body.keys[0]?.kid).not.toBe((await jwks(b)).body.keys[0]?.kid);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
