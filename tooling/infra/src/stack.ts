// The whole local infrastructure: starts what is not replaced by a URL, in parallel.
import { join } from "node:path";
import { ensureBinaries, type BinaryName } from "./binaries.js";
import type { InfraEnv } from "./env.js";
import {
  isNatsService,
  natsAuthConfig,
  natsUrlWithCredentials,
  NATS_HARNESS,
  randomNatsPasswords,
  type EmbeddedNatsUser,
} from "./nats-auth.js";
import { portOr } from "./ports.js";
import {
  startFerretDb,
  startNats,
  startRedis,
  startStripeMock,
  type RunningServer,
  type ServerOptions,
} from "./servers.js";

/** Where the services find the infrastructure; these become MONGO_URL, NATS_URL, … */
export interface InfraUrls {
  mongoUrl: string;
  natsUrl: string;
  redisUrl: string;
  /** Stripe-compatible API to use in sandbox mode; undefined when real Stripe keys are set. */
  stripeMockUrl: string | undefined;
  /**
   * The passwords of the embedded NATS server's users (random per run); undefined for a NATS_URL
   * of your own. `natsUrl` has no credentials: see serviceEnv and natsUrlFor.
   */
  natsPasswords?: Record<EmbeddedNatsUser, string>;
}

export interface Stack {
  urls: InfraUrls;
  /** The servers this stack started (not the external ones). */
  servers: RunningServer[];
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Parent folder of each server's state folder. */
  dataDir: string;
  env: InfraEnv;
  /** Ports to try first (a taken one is replaced by a free one); all free ports when absent. */
  preferredPorts?: Partial<Record<BinaryName, number>>;
  /** Let NATS connections without credentials in, with full rights (the test harness's servers). */
  natsAnonymousHarness?: boolean;
  log?: (message: string) => void;
}

interface Component {
  binary: BinaryName;
  external: string | undefined;
  start: (options: ServerOptions, urls: InfraUrls) => Promise<RunningServer>;
  assign: (urls: InfraUrls, url: string) => void;
}

/** Which binaries a stack with this environment needs. */
export function neededBinaries(env: InfraEnv): BinaryName[] {
  return components(env)
    .filter((component) => component.external === undefined)
    .map((component) => component.binary);
}

function components(env: InfraEnv, natsAnonymousHarness = false): Component[] {
  const list: Component[] = [
    {
      binary: "ferretdb",
      external: env.external.mongoUrl,
      start: startFerretDb,
      assign: (urls, url) => (urls.mongoUrl = url),
    },
    {
      binary: "nats-server",
      external: env.external.natsUrl,
      // The same users and permissions as the chart's NATS, with fresh passwords every run.
      start: (options, urls) => {
        const passwords = randomNatsPasswords();
        urls.natsPasswords = passwords;
        return startNats({
          ...options,
          config: natsAuthConfig({ passwords, anonymousHarness: natsAnonymousHarness }),
        });
      },
      assign: (urls, url) => (urls.natsUrl = url),
    },
    {
      binary: "redis-server",
      external: env.external.redisUrl,
      start: startRedis,
      assign: (urls, url) => (urls.redisUrl = url),
    },
  ];
  if (!env.stripeLive) {
    list.push({
      binary: "stripe-mock",
      external: env.external.stripeMockUrl,
      start: startStripeMock,
      assign: (urls, url) => (urls.stripeMockUrl = url),
    });
  }
  return list;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const { env } = options;
  const parts = components(env, options.natsAnonymousHarness);
  const binaries = await ensureBinaries(neededBinaries(env), {
    cacheDir: env.cacheDir,
    path: env.path,
    log: options.log,
  });
  const urls: InfraUrls = { mongoUrl: "", natsUrl: "", redisUrl: "", stripeMockUrl: undefined };
  const results = await Promise.allSettled(
    parts.map(async (part) => {
      if (part.external !== undefined) {
        part.assign(urls, part.external);
        return undefined;
      }
      const server = await part.start(
        {
          binary: binaries[part.binary],
          dir: join(options.dataDir, part.binary.replace(/-server$/, "")),
          port: await portOr(options.preferredPorts?.[part.binary]),
        },
        urls,
      );
      part.assign(urls, server.url);
      return server;
    }),
  );
  const servers = results.flatMap((result) =>
    result.status === "fulfilled" && result.value ? [result.value] : [],
  );
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  const failures = results.flatMap((result) =>
    result.status === "rejected" ? [result.reason as unknown] : [],
  );
  if (failures.length > 0) {
    await stop();
    throw new Error(
      failures.map((failure) => String(failure instanceof Error ? failure.message : failure)).join("\n\n"),
    );
  }
  return { urls, servers, stop };
}

/**
 * The NATS URL with a user's credentials in it, when the embedded server has them; the plain URL
 * for a server of your own (NATS_URL) or a user it does not know.
 */
export function natsUrlFor(urls: InfraUrls, user: string): string {
  const password = urls.natsPasswords?.[user as EmbeddedNatsUser];
  return password === undefined ? urls.natsUrl : natsUrlWithCredentials(urls.natsUrl, user, password);
}

/**
 * The environment variables a service reads: `service` (gateway, auth, …) connects to NATS as its
 * own user; any other command as the harness, with every right.
 */
export function serviceEnv(urls: InfraUrls, service?: string): Record<string, string> {
  const vars: Record<string, string> = {
    MONGO_URL: urls.mongoUrl,
    NATS_URL: natsUrlFor(urls, service !== undefined && isNatsService(service) ? service : NATS_HARNESS),
    REDIS_URL: urls.redisUrl,
  };
  if (urls.stripeMockUrl) vars.STRIPE_MOCK_URL = urls.stripeMockUrl;
  return vars;
}
