// Signing-key rotation with configured keys (AUTH_SIGNING_KEY_*), against the real service and the
// verifier the gateway and the other subgraphs use (shared-runtime's, over auth's JWKS).
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { createTokenVerifier, TokenError } from "@ticketing/shared-runtime";
import { uniqueName } from "@ticketing/testkit";
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, SignJWT, type JSONWebKeySet } from "jose";
import { describe, expect, it } from "vitest";
import { loadEnv } from "../src/env.js";
import { AUDIENCE, ISSUER } from "../src/tokens.js";
import {
  ME,
  PASSWORD,
  SIGN_IN,
  signUp,
  startAuth,
  testEnv,
  type RunningAuth,
  type UserResult,
} from "./support.js";

interface TestKey {
  pem: string;
  privateKey: KeyObject;
  kid: string;
}

async function newKey(): Promise<TestKey> {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const { kty, crv, x } = publicKey.export({ format: "jwk" });
  const kid = await calculateJwkThumbprint({ kty, crv, x });
  return { pem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(), privateKey, kid };
}

const keysEnv = (keys: { current: TestKey; next: TestKey; previous?: TestKey }) => ({
  AUTH_SIGNING_KEY_CURRENT: keys.current.pem,
  AUTH_SIGNING_KEY_NEXT: keys.next.pem,
  ...(keys.previous ? { AUTH_SIGNING_KEY_PREVIOUS: keys.previous.pem } : {}),
});

const jwksKids = async (auth: RunningAuth) => {
  const body = (await (await fetch(`${auth.origin}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
  expect(body.keys.every((key) => !("d" in key))).toBe(true);
  return body.keys.map((key) => key.kid);
};

/** A fresh verifier as the gateway and the subgraphs build it (no cached keys or tokens). */
const gatewayVerifier = (auth: RunningAuth) =>
  createTokenVerifier({
    jwksUrl: `${auth.origin}/.well-known/jwks.json`,
    issuer: ISSUER,
    audience: AUDIENCE,
  });

/** The claims of `token`, signed again with `key` under `kid`. */
async function resign(token: string, key: KeyObject, kid: string): Promise<string> {
  const { iat, exp, ...claims } = decodeJwt(token);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "EdDSA", kid, typ: "JWT" })
    .setIssuedAt(iat)
    .setExpirationTime(exp!)
    .sign(key);
}

const me = async (auth: RunningAuth, token: string) =>
  (await auth.graphql<{ me: UserResult | null }>(ME, { token })).data?.me ?? null;

describe("configured signing keys", () => {
  it("the JWKS publishes the current and the next key; tokens are signed with the current one", async () => {
    const [current, next] = await Promise.all([newKey(), newKey()]);
    const auth = await startAuth(keysEnv({ current, next }));
    try {
      expect(await jwksKids(auth)).toEqual([current.kid, next.kid]);
      const { token, user } = await signUp(auth);
      expect(decodeProtectedHeader(token)).toMatchObject({ alg: "EdDSA", kid: current.kid });
      await expect(gatewayVerifier(auth).verifyToken(token)).resolves.toMatchObject({ userId: user.id });
    } finally {
      await auth.close();
    }
  });

  it("JWKS_PORT serves the keys alone: verifiers use it, auth's API is not there", async () => {
    const [current, next] = await Promise.all([newKey(), newKey()]);
    const auth = await startAuth({ ...keysEnv({ current, next }), JWKS_PORT: "0" });
    try {
      const jwks = auth.service.jwks;
      expect(jwks?.port).toBeGreaterThan(0);
      const keysOrigin = `http://127.0.0.1:${jwks!.port}`;
      const keys = await fetch(`${keysOrigin}/.well-known/jwks.json`);
      expect(keys.headers.get("cache-control")).toBe("public, max-age=300");
      expect(((await keys.json()) as JSONWebKeySet).keys.map((key) => key.kid)).toEqual([
        current.kid,
        next.kid,
      ]);
      const { token, user } = await signUp(auth);
      const verifier = createTokenVerifier({
        jwksUrl: `${keysOrigin}/.well-known/jwks.json`,
        issuer: ISSUER,
        audience: AUDIENCE,
      });
      await expect(verifier.verifyToken(token)).resolves.toMatchObject({ userId: user.id });
      // Nothing else of auth answers there: no GraphQL (sign-in, x-client-ip), no renewal.
      for (const [method, path] of [
        ["POST", "/graphql"],
        ["POST", "/sessions/renew"],
        ["POST", "/api-keys/verify"],
        ["GET", "/readyz"],
      ]) {
        expect((await fetch(`${keysOrigin}${path}`, { method })).status, `${method} ${path}`).toBe(404);
      }
    } finally {
      await auth.close();
    }
  });

  it("a token signed with the next key verifies at the gateway and the subgraphs already", async () => {
    const [current, next] = await Promise.all([newKey(), newKey()]);
    const auth = await startAuth(keysEnv({ current, next }));
    try {
      const { token, user } = await signUp(auth);
      const byNext = await resign(token, next.privateKey, next.kid);
      await expect(gatewayVerifier(auth).verifyToken(byNext)).resolves.toMatchObject({ userId: user.id });
      expect((await me(auth, byNext))?.id).toBe(user.id);
    } finally {
      await auth.close();
    }
  });

  it("after a rotation the old key's tokens verify until the overlap ends, then not", async () => {
    const [a, b, c] = await Promise.all([newKey(), newKey(), newKey()]);
    const database = uniqueName("auth_rotation");
    const before = await startAuth(keysEnv({ current: a, next: b }), { database });
    let token: string;
    let user: UserResult;
    let email: string;
    try {
      ({ token, user, email } = await signUp(before));
    } finally {
      await before.close();
    }

    // Rotated: next becomes current, a new next, the old current kept as previous.
    const during = await startAuth(keysEnv({ previous: a, current: b, next: c }), { database });
    try {
      expect(await jwksKids(during)).toEqual([b.kid, c.kid, a.kid]);
      await expect(gatewayVerifier(during).verifyToken(token)).resolves.toMatchObject({ userId: user.id });
      expect((await me(during, token))?.id).toBe(user.id);
      // The old token renews (with the new key), and new sign-ins get the new key.
      const renewed = await fetch(`${during.origin}/sessions/renew`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
      expect(renewed.status).toBe(200);
      const { token: fresh } = (await renewed.json()) as { token: string };
      expect(decodeProtectedHeader(fresh).kid).toBe(b.kid);
      const signIn = await during.graphql(SIGN_IN, { variables: { input: { email, password: PASSWORD } } });
      expect(decodeProtectedHeader(signIn.headers.get("x-session-token") ?? "").kid).toBe(b.kid);
    } finally {
      await during.close();
    }

    // The overlap is over: the previous key is gone from the JWKS and its tokens are refused.
    const after = await startAuth(keysEnv({ current: b, next: c }), { database });
    try {
      expect(await jwksKids(after)).toEqual([b.kid, c.kid]);
      await expect(gatewayVerifier(after).verifyToken(token)).rejects.toMatchObject({
        name: "TokenError",
        reason: "invalid",
      });
      expect((await after.graphql(ME, { token })).status).toBe(401);
    } finally {
      await after.close();
    }
  });

  it("a token with an unknown kid is refused, never a 5xx", async () => {
    const [current, next, stranger] = await Promise.all([newKey(), newKey(), newKey()]);
    const auth = await startAuth(keysEnv({ current, next }));
    try {
      const { token } = await signUp(auth);
      for (const forged of [
        await resign(token, stranger.privateKey, stranger.kid),
        // A known kid does not lend its trust to another key's signature.
        await resign(token, stranger.privateKey, next.kid),
      ]) {
        const refused = await gatewayVerifier(auth)
          .verifyToken(forged)
          .catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(TokenError);
        expect(refused).toMatchObject({ reason: "invalid" });
        expect((await auth.graphql(ME, { token: forged })).status).toBe(401);
      }
    } finally {
      await auth.close();
    }
  });
});

describe("a malformed signing key stops the start with what is wrong", () => {
  it.each([
    [
      "not a key",
      { AUTH_SIGNING_KEY_CURRENT: "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----" },
      /AUTH_SIGNING_KEY_CURRENT: must be an Ed25519 private key in PKCS#8 PEM/,
    ],
    [
      "an RSA key",
      {
        AUTH_SIGNING_KEY_NEXT: generateKeyPairSync("rsa", { modulusLength: 2048 })
          .privateKey.export({ type: "pkcs8", format: "pem" })
          .toString(),
      },
      /AUTH_SIGNING_KEY_NEXT: must be an Ed25519 key, not rsa/,
    ],
  ])("%s", async (_, bad, message) => {
    const [current, next] = await Promise.all([newKey(), newKey()]);
    const env = { ...keysEnv({ current, next }), ...bad };
    expect(() => testEnv(env)).toThrow(message);
    // The message never repeats the value.
    const text = (() => {
      try {
        testEnv(env);
        return "";
      } catch (error) {
        return String(error);
      }
    })();
    expect(text).not.toContain("PRIVATE KEY");
  });

  it("one key without the other, a previous key alone, or the same key twice", async () => {
    const [current, next] = await Promise.all([newKey(), newKey()]);
    expect(() => loadEnv({ AUTH_SIGNING_KEY_CURRENT: current.pem })).toThrow(
      /AUTH_SIGNING_KEY_NEXT: is required with AUTH_SIGNING_KEY_CURRENT/,
    );
    expect(() => loadEnv({ AUTH_SIGNING_KEY_PREVIOUS: current.pem })).toThrow(
      /AUTH_SIGNING_KEY_PREVIOUS: needs AUTH_SIGNING_KEY_CURRENT and AUTH_SIGNING_KEY_NEXT/,
    );
    expect(() => loadEnv(keysEnv({ current, next: current }))).toThrow(
      /AUTH_SIGNING_KEY_NEXT: is the same key as AUTH_SIGNING_KEY_CURRENT/,
    );
    // A PEM written on one line with \n escapes (a .env file) is read as the PEM it stands for.
    const oneLine = loadEnv({
      AUTH_SIGNING_KEY_CURRENT: current.pem.replaceAll("\n", "\\n"),
      AUTH_SIGNING_KEY_NEXT: next.pem,
    });
    expect(oneLine.AUTH_SIGNING_KEY_CURRENT?.equals(current.privateKey)).toBe(true);
  });
});
