// What the public graph's checks add to a request through the gateway: the same anonymous
// contract query (Events, 20 per page) through a gateway with the checks (client identification,
// the Redis rate limit, depth/alias/directive/token/cost limits, APQ) and through one without,
// sequentially, on private servers started for the run.
//   npm run bench:limits -w @ticketing/bench -- [requests per run = 2000] [runs = 5]
import { cpus, loadavg } from "node:os";
import { connect } from "@nats-io/transport-node";
import { authService, loadEnv as loadAuthEnv } from "@ticketing/auth";
import { createApiKeys, createGateway, loadGatewayEnv } from "@ticketing/gateway";
import { ensureStreams } from "@ticketing/shared-events";
import { createIdentity, createLogger } from "@ticketing/shared-runtime";
import { ticketsService, loadEnv as loadTicketsEnv } from "@ticketing/tickets";
import { withPrivateStack } from "./stack.js";
import { median, ms, summarize } from "./stats.js";

const requests = Number(process.argv[2] ?? 2_000);
const runs = Number(process.argv[3] ?? 5);
const EVENTS = JSON.stringify({
  query: `query Events($first: Int, $after: String, $filter: EventFilter) {
    events(first: $first, after: $after, filter: $filter) {
      edges { cursor node { id name venue city startsAt category availableTickets lowestPrice { amount currency } } }
      pageInfo { hasNextPage endCursor }
    }
  }`,
  variables: { first: 20 },
});

await withPrivateStack(async (urls) => {
  const logger = createLogger("bench", "warn");
  const nc = await connect({ servers: urls.natsUrl });
  await ensureStreams(nc);
  const auth = await authService.start(
    loadAuthEnv({
      MONGO_URL: urls.mongoUrl,
      NATS_URL: urls.natsUrl,
      REDIS_URL: urls.redisUrl,
      LOG_LEVEL: "warn",
    }),
  );
  const { port: authPort } = await auth.listen(0, "127.0.0.1");
  const authUrl = `http://127.0.0.1:${authPort}`;
  const tickets = await ticketsService.start(
    loadTicketsEnv({
      MONGO_URL: urls.mongoUrl,
      NATS_URL: urls.natsUrl,
      AUTH_JWKS_URL: `${authUrl}/.well-known/jwks.json`,
      LOG_LEVEL: "warn",
    }),
  );
  const { port: ticketsPort } = await tickets.listen(0, "127.0.0.1");
  const env = loadGatewayEnv({
    NATS_URL: urls.natsUrl,
    REDIS_URL: urls.redisUrl,
    AUTH_URL: authUrl,
    SUBGRAPH_AUTH_URL: `${authUrl}/graphql`,
    SUBGRAPH_TICKETS_URL: `http://127.0.0.1:${ticketsPort}/graphql`,
    RATE_LIMIT_ANONYMOUS_PER_MINUTE: "100000000",
    PORT: "0",
  });
  const identity = await createIdentity(nc, env.jwksUrl, logger);
  const apiKeys = await createApiKeys({ authUrl, nc, logger });
  const gateways = {
    "with the checks": await createGateway({ env, logger, verifier: identity.verifier, apiKeys }),
    "without the checks": await createGateway({
      env,
      logger,
      verifier: identity.verifier,
      apiKeys,
      publicGraphChecks: false,
    }),
  };
  const ports = Object.fromEntries(
    await Promise.all(
      Object.entries(gateways).map(async ([label, gateway]) => [
        label,
        (await gateway.listen(0, "127.0.0.1")).port,
      ]),
    ),
  ) as Record<keyof typeof gateways, number>;

  async function run(label: keyof typeof gateways): Promise<{ p50: number; p99: number }> {
    const samples: number[] = [];
    for (let i = 0; i < requests; i++) {
      const start = performance.now();
      const response = await fetch(`http://127.0.0.1:${ports[label]}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: EVENTS,
      });
      const body = (await response.json()) as { data?: { events?: unknown } };
      if (!body.data?.events) throw new Error(`${label}: Events failed: ${JSON.stringify(body)}`);
      samples.push(performance.now() - start);
    }
    return summarize(samples);
  }

  console.log(
    `Events (20 per page, demo catalog), anonymous: ${requests} sequential requests per run, ${runs} runs ` +
      `after a warm-up, alternating gateways; ${cpus().length} cores, Node ${process.versions.node}, ` +
      `load average ${loadavg()[0]!.toFixed(2)}\n`,
  );
  const results: Record<string, { p50: number[]; p99: number[] }> = {};
  for (let round = 0; round <= runs; round++) {
    for (const label of Object.keys(gateways) as (keyof typeof gateways)[]) {
      const s = await run(label);
      if (round === 0) continue; // warm-up
      (results[label] ??= { p50: [], p99: [] }).p50.push(s.p50);
      results[label].p99.push(s.p99);
      console.log(`${label} run ${round}: p50 ${ms(s.p50)}, p99 ${ms(s.p99)}`);
    }
  }
  console.log("");
  for (const [label, r] of Object.entries(results)) {
    console.log(`${label}: median of ${runs} runs: p50 ${ms(median(r.p50))}, p99 ${ms(median(r.p99))}`);
  }
  const on = results["with the checks"]!;
  const off = results["without the checks"]!;
  console.log(
    `added by the checks: p50 ${ms(median(on.p50) - median(off.p50))}, p99 ${ms(median(on.p99) - median(off.p99))}`,
  );

  for (const gateway of Object.values(gateways)) await gateway.close();
  await apiKeys.stop();
  await identity.stop();
  await tickets.close();
  await auth.close();
  await nc.close();
});
