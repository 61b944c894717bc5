import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";

const optionalUrl = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .pipe(z.url().optional())
  .optional();

const schema = z.object({
  MONGO_URL: optionalUrl,
  NATS_URL: optionalUrl,
  REDIS_URL: optionalUrl,
  STRIPE_SECRET_KEY: z.string().trim().optional(),
  STRIPE_MOCK_URL: optionalUrl,
  TEST_MONGO_URL: optionalUrl,
  TICKETING_CACHE_DIR: z.string().optional(),
  XDG_CACHE_HOME: z.string().optional(),
  PATH: z.string().default(""),
});

export interface InfraEnv {
  /** Servers to use instead of starting embedded ones. */
  external: {
    mongoUrl: string | undefined;
    natsUrl: string | undefined;
    redisUrl: string | undefined;
    stripeMockUrl: string | undefined;
  };
  /** Real Stripe is configured: no stripe-mock is needed. */
  stripeLive: boolean;
  /** A MongoDB-wire server the test suites use instead of a private FerretDB. */
  testMongoUrl: string | undefined;
  /** Per-user cache of built binaries, shared by every clone on the machine. */
  cacheDir: string;
  path: string;
}

/** The environment a child process inherits (servers, builds, the command `up` runs). */
/**
 * The environment of the command `up` runs. That command starts every service at once, so a
 * PORT given to it is the public origin's: it reaches the gateway as PUBLIC_PORT, and every other
 * service keeps its own default port.
 */
export function inheritedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { PORT: port, ...rest } = process.env;
  return { ...rest, ...(port ? { PUBLIC_PORT: port } : {}), ...extra };
}

export function loadEnv(source: NodeJS.ProcessEnv = process.env): InfraEnv {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid environment:\n${problems.join("\n")}`);
  }
  const env = parsed.data;
  return {
    external: {
      mongoUrl: env.MONGO_URL,
      natsUrl: env.NATS_URL,
      redisUrl: env.REDIS_URL,
      stripeMockUrl: env.STRIPE_MOCK_URL,
    },
    stripeLive: Boolean(env.STRIPE_SECRET_KEY),
    testMongoUrl: env.TEST_MONGO_URL,
    cacheDir: env.TICKETING_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "ticketing"),
    path: env.PATH,
  };
}
