// The whole local infrastructure: starts what is not replaced by a URL, in parallel.
import { join } from "node:path";
import { ensureBinaries, type BinaryName } from "./binaries.js";
import type { InfraEnv } from "./env.js";
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
  log?: (message: string) => void;
}

interface Component {
  binary: BinaryName;
  external: string | undefined;
  start: (options: ServerOptions) => Promise<RunningServer>;
  assign: (urls: InfraUrls, url: string) => void;
}

/** Which binaries a stack with this environment needs. */
export function neededBinaries(env: InfraEnv): BinaryName[] {
  return components(env)
    .filter((component) => component.external === undefined)
    .map((component) => component.binary);
}

function components(env: InfraEnv): Component[] {
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
      start: startNats,
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
  const parts = components(env);
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
      const server = await part.start({
        binary: binaries[part.binary],
        dir: join(options.dataDir, part.binary.replace(/-server$/, "")),
        port: await portOr(options.preferredPorts?.[part.binary]),
      });
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

/** The environment variables the services read. */
export function serviceEnv(urls: InfraUrls): Record<string, string> {
  const vars: Record<string, string> = {
    MONGO_URL: urls.mongoUrl,
    NATS_URL: urls.natsUrl,
    REDIS_URL: urls.redisUrl,
  };
  if (urls.stripeMockUrl) vars.STRIPE_MOCK_URL = urls.stripeMockUrl;
  return vars;
}
