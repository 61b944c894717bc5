import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadEnv, startStack, type InfraUrls } from "@ticketing/infra";

/** Private servers for one benchmark run (no stripe-mock), removed afterwards. */
export async function withPrivateStack(run: (urls: InfraUrls) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "ticketing-bench-"));
  const stack = await startStack({
    dataDir: dir,
    env: {
      ...loadEnv(),
      stripeLive: true,
      external: { mongoUrl: undefined, natsUrl: undefined, redisUrl: undefined, stripeMockUrl: undefined },
    },
    // The benchmark's own connections (seeding, watching the stream) need no credentials.
    natsAnonymousHarness: true,
  });
  try {
    await run(stack.urls);
  } finally {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
