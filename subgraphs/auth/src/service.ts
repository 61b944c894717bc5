import "reflect-metadata";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { createPublisher, ensureStreams } from "@ticketing/shared-events";
import {
  connectMongo,
  createLogger,
  DEMO_SELLERS,
  runShutdownSteps,
  watchRevokedSessions,
  type Logger,
  type RevokedSessions,
  type ShutdownStep,
} from "@ticketing/shared-runtime";
import type { Express } from "express";
import { Redis } from "ioredis";
import { createAccounts } from "./accounts.js";
import { createApiKeys } from "./api-keys.js";
import { collection } from "./data/collections.js";
import { API_KEY_LOG, type ApiKeyState } from "./events/api-keys.js";
import { credentialRepository } from "./data/credentials.js";
import { createLogs, type Logs } from "./data/logs.js";
import { signingKeyRepository } from "./data/signing-keys.js";
import type { AuthEnv } from "./env.js";
import { createSignInLimiter } from "./rate-limit.js";
import { createServer, type AuthServer } from "./server.js";
import { createTokenService, localTokenVerifier } from "./tokens.js";

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

export interface AuthServiceOptions {
  logger?: Logger;
  /** The MongoDB database; tests give each suite its own. */
  database?: string;
}

export interface AuthService {
  app: Express;
  /** Defaults to PORT and HOST. `url` is the GraphQL endpoint. */
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  /** In order: stop HTTP, stop the event logs (publishing what is pending), close NATS, Redis, MongoDB. */
  shutdownSteps: ShutdownStep[];
  /** Runs `shutdownSteps`; rejects when one failed. */
  close(): Promise<void>;
}

/** Waits for Redis briefly: sign-in works without it (unlimited), so it does not hold up a start. */
async function connectRedis(url: string, logger: Logger): Promise<Redis> {
  const redis = new Redis(url, {
    // Fail a command at once while disconnected instead of queueing sign-ins behind it.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
  });
  redis.on("error", (err: unknown) => logger.warn({ err }, "Redis connection error"));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      logger.warn("Redis is not ready yet; sign-in rate limits are off until it is");
      resolve();
    }, 5_000);
    redis.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return redis;
}

/**
 * The whole auth service: connects MongoDB, NATS and Redis, makes sure the stream exists, loads
 * (or creates) the signing key, starts the event logs and the revocation watch, and builds the
 * HTTP server. What main.ts runs and what other packages' tests start.
 */
export async function createAuthService(
  env: AuthEnv,
  options: AuthServiceOptions = {},
): Promise<AuthService> {
  const logger = options.logger ?? createLogger("auth", env.LOG_LEVEL);
  let mongo: Awaited<ReturnType<typeof connectMongo>> | undefined;
  let nats: NatsConnection | undefined;
  let redis: Redis | undefined;
  let logs: Logs | undefined;
  let revocations: RevokedSessions | undefined;
  let server: AuthServer | undefined;

  const steps: ShutdownStep[] = [
    { name: "stop taking requests", run: () => server?.close() },
    { name: "stop the revocation watch", run: () => revocations?.stop() },
    {
      name: "flush the event logs",
      run: async () => {
        await logs?.users.stop();
        await logs?.sessions.stop();
        await logs?.apiKeys.stop();
      },
    },
    { name: "close NATS", run: () => nats?.drain() },
    {
      name: "close Redis",
      run: async () => {
        await redis?.quit().catch(() => redis?.disconnect());
      },
    },
    { name: "close MongoDB", run: () => mongo?.close() },
  ];

  try {
    mongo = await connectMongo(env.MONGO_URL, options.database ?? DATABASE, logger);
    nats = await connect({ servers: env.NATS_URL.split(","), name: "auth" });
    await ensureStreams(nats);
    redis = await connectRedis(env.REDIS_URL, logger);

    logs = createLogs(mongo, createPublisher(nats), logger);
    await logs.users.start();
    await logs.sessions.start();
    await logs.apiKeys.start();
    revocations = await watchRevokedSessions(nats, {
      // Tokens live at most this long, so older revocations no longer matter.
      lookbackMs: (env.TOKEN_TTL_SECONDS + 60) * 1000,
      logger,
    });
    const tokens = await createTokenService(signingKeyRepository(mongo), {
      ttlSeconds: env.TOKEN_TTL_SECONDS,
      logger,
    });
    const accounts = createAccounts({
      credentials: credentialRepository(mongo),
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
      sessionDays: env.SESSION_DAYS,
      isRevoked: (sessionId) => revocations?.isRevoked(sessionId) ?? false,
    });
    if (env.DEMO_ACCOUNTS === "on") {
      await accounts.seed(
        DEMO_SELLERS.map((seller) => ({ ...seller, email: `${seller.id}@demo.ticketing.invalid` })),
      );
    }
    server = await createServer({
      accounts,
      apiKeys: createApiKeys(
        logs.apiKeys,
        collection<ApiKeyState & { _id: string }>(mongo, API_KEY_LOG.projectionCollection),
      ),
      tokens,
      verifier: localTokenVerifier(tokens, (sessionId) => accounts.isSessionEnded(sessionId)),
      logger,
      readiness: { mongo, nats },
      introspection: env.NODE_ENV !== "production",
    });
  } catch (error) {
    await runShutdownSteps({ logger, steps, timeoutMs: 5_000 });
    throw error;
  }

  const started = server;
  let closing: Promise<void> | undefined;
  return {
    app: started.app,
    listen: (port = env.PORT, host = env.HOST) => started.listen(port, host),
    shutdownSteps: steps,
    close() {
      closing ??= runShutdownSteps({ logger, steps }).then((clean) => {
        if (!clean) throw new Error("the auth service did not shut down cleanly");
      });
      return closing;
    },
  };
}
