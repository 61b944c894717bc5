import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSubgraphServer, createTokenVerifier, TokenError, type SubgraphServer } from "../src/index.js";
import { greetingSubgraph } from "./fixtures/greetings.js";
import {
  AUDIENCE,
  capturingLogger,
  graphql,
  ISSUER,
  serveJwks,
  sign,
  signingKey,
  type SigningKey,
} from "./support.js";

const WHOAMI = "{ whoami { userId roles sessionId } }";

describe("authentication", () => {
  let server: SubgraphServer<object>;
  let jwks: Awaited<ReturnType<typeof serveJwks>>;
  let url: string;
  let ed: SigningKey;
  let es: SigningKey;
  const revoked = new Set<string>();

  beforeAll(async () => {
    ed = await signingKey("ed-1", "EdDSA");
    es = await signingKey("es-1", "ES256");
    jwks = await serveJwks([ed, es]);
    server = createSubgraphServer({
      name: "greetings",
      schema: (await greetingSubgraph()).schema,
      logger: capturingLogger().logger,
      verifier: createTokenVerifier({
        jwksUrl: jwks.url,
        issuer: ISSUER,
        audience: AUDIENCE,
        isSessionRevoked: (sessionId) => Promise.resolve(revoked.has(sessionId)),
      }),
    });
    const { port } = await server.listen(0, "127.0.0.1");
    url = `http://127.0.0.1:${port}/graphql`;
  });

  afterAll(async () => {
    await server.close();
    await jwks.close();
  });

  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  it.each(["EdDSA", "ES256"] as const)("gives resolvers the viewer of a valid %s token", async (alg) => {
    const key = alg === "EdDSA" ? ed : es;
    const token = await sign(key, {
      subject: "user-7",
      claims: { roles: ["USER", "OPS", "SOMETHING_NEW"], sid: "s-7" },
    });
    const response = await graphql(url, WHOAMI, bearer(token));
    expect(response.body).toEqual({
      data: { whoami: { userId: "user-7", roles: ["USER", "OPS"], sessionId: "s-7" } },
    });
  });

  it("refuses an expired token", async () => {
    const token = await sign(ed, { expiresAt: Math.floor(Date.now() / 1000) - 60 });
    const response = await graphql(url, WHOAMI, bearer(token));
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]).toMatchObject({
      message: "The token has expired",
      extensions: { code: "UNAUTHENTICATED" },
    });
    expect(response.body.data).toBeUndefined();
  });

  it("refuses tokens signed by a key the JWKS does not hold", async () => {
    const impostorWithKnownKid = await signingKey("ed-1", "EdDSA");
    const impostorWithOwnKid = await signingKey("ed-2", "EdDSA");
    for (const key of [impostorWithKnownKid, impostorWithOwnKid]) {
      const response = await graphql(url, WHOAMI, bearer(await sign(key)));
      expect(response.status).toBe(401);
      expect(response.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    }
  });

  it("refuses a token of a revoked session", async () => {
    const token = await sign(ed, { claims: { sid: "s-revoked" } });
    expect((await graphql(url, WHOAMI, bearer(token))).body.data).toMatchObject({
      whoami: { sessionId: "s-revoked" },
    });
    revoked.add("s-revoked");
    const response = await graphql(url, WHOAMI, bearer(token));
    expect(response.body.errors?.[0]).toMatchObject({
      message: "The session has ended",
      extensions: { code: "UNAUTHENTICATED" },
    });
  });

  it.each([
    ["another issuer", { issuer: "https://elsewhere.test" }],
    ["another audience", { audience: "someone-else" }],
    ["no subject", { subject: null }],
    ["no session id", { claims: { sid: undefined } }],
    ["roles that are not a list", { claims: { roles: "OPS" } }],
  ])("refuses a token with %s", async (_what, options) => {
    const response = await graphql(url, WHOAMI, bearer(await sign(ed, options)));
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it.each(["Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt", "user-1"])(
    "refuses the Authorization header %j",
    async (authorization) => {
      const response = await graphql(url, WHOAMI, { headers: { authorization } });
      expect(response.status).toBe(401);
      expect(response.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    },
  );

  it("lets @Authorized fields through by role, with the contract's codes", async () => {
    const query = "{ greetingCount }";
    const anonymous = await graphql(url, query);
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const user = await graphql(url, query, bearer(await sign(ed, { claims: { roles: ["USER"] } })));
    expect(user.body.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const ops = await graphql(url, query, bearer(await sign(ed, { claims: { roles: ["OPS"] } })));
    expect(ops.body).toEqual({ data: { greetingCount: expect.any(Number) as number } });
  });

  it("answers 503, not 500, when the JWKS cannot be reached", async () => {
    const unreachable = createSubgraphServer({
      name: "greetings",
      schema: (await greetingSubgraph()).schema,
      logger: capturingLogger().logger,
      verifier: createTokenVerifier({ jwksUrl: "http://127.0.0.1:1/.well-known/jwks.json" }),
    });
    const { port } = await unreachable.listen(0, "127.0.0.1");
    try {
      const response = await graphql(`http://127.0.0.1:${port}/graphql`, WHOAMI, bearer(await sign(ed)));
      expect(response.status).toBe(503);
      expect(response.body.errors?.[0]?.message).toBe("Authentication is unavailable");
    } finally {
      await unreachable.close();
    }
  });

  it("tells token failures apart", async () => {
    const verifier = createTokenVerifier({ jwksUrl: jwks.url });
    await expect(verifier.verifyAuthorization(undefined)).resolves.toBeNull();
    await expect(verifier.verifyAuthorization("")).resolves.toBeNull();
    const expired = await sign(ed, { expiresAt: Math.floor(Date.now() / 1000) - 60 });
    await expect(verifier.verifyToken(expired)).rejects.toMatchObject({ reason: "expired" });
    await expect(verifier.verifyAuthorization("Token abc")).rejects.toBeInstanceOf(TokenError);
    await expect(verifier.verifyAuthorization("Token abc")).rejects.toMatchObject({ reason: "malformed" });
  });

  it("checks a remembered token's expiry and session on every use", async () => {
    const ended = new Set<string>();
    const verifier = createTokenVerifier({
      jwksUrl: jwks.url,
      isSessionRevoked: (sessionId) => ended.has(sessionId),
    });
    const expiresAt = Math.floor(Date.now() / 1000) + 1;
    const token = await sign(ed, { subject: "user-9", expiresAt, claims: { roles: ["USER"], sid: "s-9" } });
    await expect(verifier.verifyToken(token)).resolves.toMatchObject({ userId: "user-9" });
    await expect(verifier.verifyToken(token)).resolves.toMatchObject({ userId: "user-9" });
    ended.add("s-9");
    await expect(verifier.verifyToken(token)).rejects.toMatchObject({ reason: "revoked" });
    ended.delete("s-9");
    await new Promise((resolve) => setTimeout(resolve, expiresAt * 1000 - Date.now() + 10));
    await expect(verifier.verifyToken(token)).rejects.toMatchObject({ reason: "expired" });
  });
});
