// One bootstrap for every deployable. The runtime owns what each service used to wire by hand:
// the logger, the MongoDB connection, NATS with its one reconnect policy, the stream, the
// publisher, token checks with revocations, the listening server, and the ordered shutdown.
// A service declares only what is its own, in `build`.
import type { NatsConnection } from "@nats-io/transport-node";
import {
  createPublisher,
  ensureStreams,
  type Publisher,
  type RunningConsumer,
} from "@ticketing/shared-events";
import type { mongo } from "mongoose";
import type { Connection } from "mongoose";
import type { Logger } from "pino";
import { tracingEnv, type EnvSource, type TracingEnv } from "./env.js";
import { createIdentity, type ProcessIdentity } from "./identity.js";
import { createLogger } from "./logger.js";
import { connectMongo } from "./mongo.js";
import { connectNats } from "./nats.js";
import type { ReadinessOptions } from "./readiness.js";
import { gracefulShutdown, runShutdownSteps, type ShutdownStep } from "./shutdown.js";
import { startTracing } from "./telemetry/tracing.js";

type LogLevel = Parameters<typeof createLogger>[1];

/** What the runtime needs to know of a service's configuration. */
export interface RuntimeSettings {
  logLevel: LogLevel;
  natsUrl: string;
  /** The MongoDB server; the service's `database` names its database on it. */
  mongoUrl?: string;
  /** auth's JWKS: with it, the runtime checks auth's tokens and follows revoked sessions. */
  jwksUrl?: string;
  port: number;
  host: string;
  /** SHUTDOWN_DELAY_MS and SHUTDOWN_TIMEOUT_MS: see `gracefulShutdown`. */
  shutdown: { delayMs: number; timeoutMs: number };
  /** The OTEL_* variables (telemetry/tracing.ts); none: no span is sent. */
  tracing?: TracingEnv;
}

/** The settings of a service whose env spreads `commonEnv()` (or the part of it the service has). */
export function commonSettings(
  env: {
    LOG_LEVEL: LogLevel;
    NATS_URL: string;
    MONGO_URL?: string;
    AUTH_JWKS_URL?: string;
    PORT: number;
    HOST: string;
    SHUTDOWN_DELAY_MS: number;
    SHUTDOWN_TIMEOUT_MS: number;
  } & Partial<TracingEnv>,
): RuntimeSettings {
  return {
    logLevel: env.LOG_LEVEL,
    natsUrl: env.NATS_URL,
    ...(env.MONGO_URL !== undefined && { mongoUrl: env.MONGO_URL }),
    ...(env.AUTH_JWKS_URL !== undefined && { jwksUrl: env.AUTH_JWKS_URL }),
    port: env.PORT,
    host: env.HOST,
    shutdown: { delayMs: env.SHUTDOWN_DELAY_MS, timeoutMs: env.SHUTDOWN_TIMEOUT_MS },
    ...(env.OTEL_EXPORTER_OTLP_PROTOCOL !== undefined && { tracing: tracingEnv(env as TracingEnv) }),
  };
}

/** The one problem a shutdown's settings can have alone, or undefined. */
export function shutdownProblem({ delayMs, timeoutMs }: RuntimeSettings["shutdown"]): string | undefined {
  return delayMs < timeoutMs
    ? undefined
    : `SHUTDOWN_DELAY_MS (${delayMs}) must be less than SHUTDOWN_TIMEOUT_MS (${timeoutMs}), which it is part of`;
}

/** What every service's start takes; tests give each suite its own database and logger. */
export interface ServiceOptions {
  logger?: Logger;
  /** The MongoDB database, instead of the service's own name for it. */
  database?: string;
  /** Told each command the service sends to MongoDB, as the driver starts it. */
  onMongoCommand?: (event: mongo.CommandStartedEvent) => void;
}

/** What a service's `build` is handed. */
export interface ServiceContext<Env, Options extends ServiceOptions> {
  env: Env;
  options: Options;
  logger: Logger;
  nats: NatsConnection;
  publisher: Publisher;
  /** The service's database; only for a service that declares one. */
  readonly mongo: Connection;
  /** auth's tokens and revocations; only for a service whose settings name a JWKS. */
  readonly identity: ProcessIdentity;
  /** What `/readyz` checks: every connection the runtime opened for this service. */
  readiness: ReadinessOptions;
  /**
   * Registers what to stop at shutdown. Stops run in the reverse order of registration, after the
   * server has stopped taking requests and before the runtime closes its connections, so register
   * each part as it starts (logs, then the consumers that append to them, then timers).
   */
  defer: (name: string, stop: (timeoutMs: number) => void | Promise<void>) => void;
  /** Defers draining these durable consumers. */
  consumers: (running: RunningConsumer[]) => void;
}

/** The server a service listens with: a subgraph, the gateway, or health endpoints only. */
export interface Listener {
  listen(port: number, host?: string): Promise<{ port: number }>;
  /** The shutdown has begun: report unready at once, but go on serving until `close`. */
  drain(): void;
  /** Stops taking requests; those in flight have at most `graceMs` to finish. */
  close(graceMs?: number): Promise<void>;
}

export interface ServiceDefinition<Env, Options extends ServiceOptions, Parts extends { server: Listener }> {
  name: string;
  loadEnv(source?: EnvSource): Env;
  settings(env: Env): RuntimeSettings;
  /** The MongoDB database the service owns; none for a service without one. */
  database?: string;
  build(context: ServiceContext<Env, Options>): Promise<Parts>;
}

export type RunningService<Parts extends { server: Listener }> = Parts & {
  /** Defaults to the settings' port and host. */
  listen(port?: number, host?: string): Promise<Awaited<ReturnType<Parts["server"]["listen"]>>>;
  /** The start of a shutdown: unready at once, still serving (the server's `drain`). */
  drain(): void;
  /** In order: stop taking requests, the service's own parts (last started first), then the connections. */
  shutdownSteps: ShutdownStep[];
  /** Runs `shutdownSteps`; rejects when one failed. */
  close(): Promise<void>;
};

export interface Service<Env, Options extends ServiceOptions, Parts extends { server: Listener }> {
  definition: ServiceDefinition<Env, Options, Parts>;
  start(env: Env, options?: Options): Promise<RunningService<Parts>>;
}

function stopConsumers(running: RunningConsumer[]): Promise<void> {
  return Promise.all(running.map((consumer) => consumer.stop())).then(() => undefined);
}

export function defineService<Env, Options extends ServiceOptions, Parts extends { server: Listener }>(
  definition: ServiceDefinition<Env, Options, Parts>,
): Service<Env, Options, Parts> {
  const { name } = definition;

  async function start(env: Env, options = {} as Options): Promise<RunningService<Parts>> {
    const settings = definition.settings(env);
    const logger = options.logger ?? createLogger(name, settings.logLevel);
    // Registered as each part starts; run last first.
    const stack: ShutdownStep[] = [];
    const defer = (step: string, stop: (timeoutMs: number) => void | Promise<void>) =>
      void stack.push({ name: step, run: stop });
    const ordered = () => [...stack].reverse();
    // Once per process, before any connection; flushed last, after every part that makes spans.
    const tracing = startTracing(name, settings.tracing);
    defer("flush the traces", () => tracing.flush());

    let parts: Parts;
    try {
      const database = options.database ?? definition.database;
      let mongo: Connection | undefined;
      if (database !== undefined) {
        if (settings.mongoUrl === undefined) throw new Error(`${name} owns a database but has no MONGO_URL`);
        const connection = await connectMongo(settings.mongoUrl, database, logger, options.onMongoCommand);
        mongo = connection;
        defer("close MongoDB", () => connection.close());
      }
      const nats = await connectNats(settings.natsUrl, name, logger);
      defer("close NATS", () => nats.drain());
      await ensureStreams(nats);
      let identity: ProcessIdentity | undefined;
      if (settings.jwksUrl !== undefined) {
        const created = await createIdentity(nats, settings.jwksUrl, logger);
        identity = created;
        defer("stop the revocation watch", () => created.stop());
      }
      parts = await definition.build({
        env,
        options,
        logger,
        nats,
        publisher: createPublisher(nats),
        get mongo() {
          if (!mongo) throw new Error(`${name} declares no database`);
          return mongo;
        },
        get identity() {
          if (!identity) throw new Error(`${name} has no AUTH_JWKS_URL to check tokens with`);
          return identity;
        },
        readiness: { ...(mongo && { mongo }), nats },
        defer,
        consumers: (running) => defer("drain the consumers", () => stopConsumers(running)),
      });
      const { server } = parts;
      // The requests in flight get the step's time but a little, so the step ends on its own.
      defer("stop taking requests", (timeoutMs) => server.close(timeoutMs - Math.min(500, timeoutMs / 10)));
    } catch (error) {
      await runShutdownSteps({ logger, steps: ordered(), timeoutMs: 5_000 });
      throw error;
    }

    const steps = ordered();
    let closing: Promise<void> | undefined;
    return {
      ...parts,
      listen: (port = settings.port, host = settings.host) =>
        parts.server.listen(port, host) as Promise<Awaited<ReturnType<Parts["server"]["listen"]>>>,
      drain: () => parts.server.drain(),
      shutdownSteps: steps,
      close() {
        closing ??= runShutdownSteps({ logger, steps }).then((clean) => {
          if (!clean) throw new Error(`the ${name} service did not shut down cleanly`);
        });
        return closing;
      },
    };
  }

  return { definition, start };
}

/**
 * A deployable's whole main.ts: parse the environment (every problem reported, then exit 1),
 * start, listen, and on SIGTERM or SIGINT shut down: unready at once, serving on for the drain
 * delay, then the steps in order, all within the shutdown budget. A failed start exits 1, for the
 * supervisor (or Kubernetes) to start it again.
 */
export async function runMain<Env, Options extends ServiceOptions, Parts extends { server: Listener }>(
  service: Service<Env, Options, Parts>,
): Promise<void> {
  const { name } = service.definition;
  let env: Env;
  let settings: RuntimeSettings;
  try {
    env = service.definition.loadEnv();
    settings = service.definition.settings(env);
    const problem = shutdownProblem(settings.shutdown);
    if (problem) throw new Error(`Invalid environment:\n  ${problem}`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
  const logger = createLogger(name, settings.logLevel);
  try {
    const running = await service.start(env, { logger } as Options);
    await running.listen();
    gracefulShutdown({
      logger,
      begin: () => running.drain(),
      delayMs: settings.shutdown.delayMs,
      timeoutMs: settings.shutdown.timeoutMs,
      steps: running.shutdownSteps,
    });
  } catch (err) {
    logger.fatal({ err }, `${name} failed to start`);
    process.exit(1);
  }
}
