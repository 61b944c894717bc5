import "reflect-metadata";
import {
  closeRedis,
  commonSettings,
  connectRedis,
  defineService,
  DEMO_SELLERS,
  redisReady,
  watchRevokedSessions,
  type ServiceContext,
  type ServiceOptions,
} from "@ticketing/shared-runtime";
import { createAccounts } from "./accounts.js";
import { createApiKeys } from "./api-keys.js";
import { apiKeyReads } from "./data/api-keys.js";
import { credentialRepository } from "./data/credentials.js";
import { createLogs } from "./data/logs.js";
import { openModels } from "./data/models.js";
import { passwordResetStore } from "./data/password-resets.js";
import { signingKeyRepository } from "./data/signing-keys.js";
import { startUsersReadModel } from "./data/users-read-model.js";
import { loadEnv, type AuthEnv } from "./env.js";
import { createPasswordResets } from "./password-resets.js";
import { createSignInLimiter, PASSWORD_RESET_LIMITS, PASSWORD_RESET_REQUESTS } from "./rate-limit.js";
import { createServer, serveJwks } from "./server.js";
import { configuredKeyRing, createTokenService, localTokenVerifier, storedKeyRing } from "./tokens.js";

export { loadEnv, type AuthEnv } from "./env.js";
export {
  CLIENT_IP_HEADER,
  API_KEY_VERIFY_PATH,
  JWKS_PATH,
  RENEW_PATH,
  SESSION_EXPIRES_HEADER,
  SESSION_TOKEN_HEADER,
} from "./server.js";
export { AUDIENCE, ISSUER } from "./tokens.js";

export const DATABASE = "ticketing-auth";

/**
 * The auth service: the signing key, the user, session and API-key logs, sign-in limits in Redis,
 * and the revoked sessions it checks its own tokens against.
 */
export const authService = defineService({
  name: "auth",
  database: DATABASE,
  loadEnv,
  // auth checks its tokens with the key it holds, not through its own JWKS.
  settings: (env: AuthEnv) => ({ ...commonSettings(env), jwksUrl: undefined }),
  async build(context: ServiceContext<AuthEnv, ServiceOptions>) {
    const { env, logger, mongo, nats, publisher, readiness, defer } = context;
    const redis = connectRedis(env.REDIS_URL, { name: "auth", mode: "fail-fast", logger });
    defer("close Redis", () => closeRedis(redis));
    // Sign-in works without Redis (unlimited), so it does not hold up a start.
    if (!(await redisReady(redis, 5_000))) {
      logger.warn("Redis is not ready yet; sign-in rate limits are off until it is");
    }

    const models = await openModels(mongo);
    const logs = createLogs(models, publisher, logger);
    await logs.users.start();
    await logs.sessions.start();
    await logs.apiKeys.start();
    defer("flush the event logs", async () => {
      await logs.users.stop();
      await logs.sessions.stop();
      await logs.apiKeys.stop();
    });
    const userReads = await startUsersReadModel({ models, users: logs.users, nats, logger });
    defer("stop the users read model", () => userReads.stop());
    const revocations = await watchRevokedSessions(nats, {
      // Tokens live at most this long, so older revocations no longer matter.
      lookbackMs: (env.TOKEN_TTL_SECONDS + 60) * 1000,
      logger,
    });
    defer("stop the revocation watch", () => revocations.stop());
    const { AUTH_SIGNING_KEY_CURRENT: current, AUTH_SIGNING_KEY_NEXT: next } = env;
    const keyRing =
      current && next
        ? await configuredKeyRing({ current, next, previous: env.AUTH_SIGNING_KEY_PREVIOUS })
        : await storedKeyRing(signingKeyRepository(models), logger);
    logger.info(
      { signingKid: keyRing.signing.kid, publishedKids: keyRing.published.map((key) => key.kid) },
      current ? "signing keys from AUTH_SIGNING_KEY_*" : "signing key from the database",
    );
    const tokens = createTokenService(keyRing, { ttlSeconds: env.TOKEN_TTL_SECONDS });
    const accounts = createAccounts({
      credentials: credentialRepository(models),
      users: logs.users,
      sessions: logs.sessions,
      tokens,
      limiter: createSignInLimiter(
        redis,
        {
          perEmail: env.SIGNIN_LIMIT_PER_EMAIL,
          perAddress: env.SIGNIN_LIMIT_PER_ADDRESS,
          windowSeconds: env.SIGNIN_WINDOW_SECONDS,
        },
        logger,
      ),
      opsEmails: env.OPS_EMAILS,
      staffEmails: env.STAFF_EMAILS,
      sessionDays: env.SESSION_DAYS,
      isRevoked: (sessionId) => revocations.isRevoked(sessionId),
      readUser: (id) => userReads.user(id),
    });
    if (env.DEMO_ACCOUNTS === "on") {
      await accounts.seed(
        DEMO_SELLERS.map((seller) => ({ ...seller, email: `${seller.id}@demo.ticketing.invalid` })),
      );
    }
    const passwordResets = createPasswordResets({
      store: await passwordResetStore(mongo, models),
      credentials: credentialRepository(models),
      sessions: logs.sessions,
      limiter: createSignInLimiter(redis, PASSWORD_RESET_LIMITS, logger, PASSWORD_RESET_REQUESTS),
      logger,
      ttlMs: env.PASSWORD_RESET_MINUTES * 60_000,
      publicOrigin: env.PUBLIC_ORIGIN,
      development: env.NODE_ENV !== "production",
    });
    const server = await createServer({
      accounts,
      apiKeys: createApiKeys(logs.apiKeys, apiKeyReads(models)),
      passwordResets,
      tokens,
      verifier: localTokenVerifier(tokens, (sessionId) => accounts.isSessionEnded(sessionId)),
      logger,
      readiness: { ...readiness, checks: { ...readiness.checks, readModel: () => userReads.ready() } },
      introspection: env.NODE_ENV !== "production",
    });
    const jwks = env.JWKS_PORT === undefined ? undefined : await serveJwks(tokens, env.JWKS_PORT, env.HOST);
    if (jwks) defer("close the JWKS port", () => jwks.close());
    return { server, app: server.app, readModel: userReads, jwks };
  },
});

export type AuthService = Awaited<ReturnType<typeof authService.start>>;
