// Latency of the `me` query through the gateway against the auth subgraph called directly, for
// a signed-in user, on private servers started for the run.
//   npm run bench:me -w @ticketing/bench -- [requests per run = 2000] [runs = 5]
import { cpus } from "node:os";
import { connect } from "@nats-io/transport-node";
import { authService, loadEnv as loadAuthEnv } from "@ticketing/auth";
import { createGateway, loadGatewayEnv } from "@ticketing/gateway";
import { ensureStreams } from "@ticketing/shared-events";
import { createIdentity, createLogger } from "@ticketing/shared-runtime";
import { withPrivateStack } from "./stack.js";
import { median, ms, summarize } from "./stats.js";

const requests = Number(process.argv[2] ?? 2_000);
const runs = Number(process.argv[3] ?? 5);
const ME = JSON.stringify({ query: "query Me { me { id email displayName roles } }" });

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
  const env = loadGatewayEnv({
    NATS_URL: urls.natsUrl,
    AUTH_URL: authUrl,
    SUBGRAPH_AUTH_URL: `${authUrl}/graphql`,
    PORT: "0",
  });
  const identity = await createIdentity(nc, env.jwksUrl, logger);
  const gateway = await createGateway({ env, logger, verifier: identity.verifier });
  const { port } = await gateway.listen(0, "127.0.0.1");

  const signUp = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query: "mutation($input: SignUpInput!) { signUp(input: $input) { id } }",
      variables: {
        input: { email: "bench@example.com", password: "correct horse battery", displayName: "Bench" },
      },
    }),
  });
  const cookie = signUp.headers
    .getSetCookie()
    .find((c) => c.startsWith("session="))!
    .split(";")[0]!;
  const token = decodeURIComponent(cookie.slice("session=".length));

  async function measure(label: string, url: string, headers: Record<string, string>) {
    const p50s: number[] = [];
    const p99s: number[] = [];
    for (let run = 0; run <= runs; run++) {
      const samples: number[] = [];
      for (let i = 0; i < requests; i++) {
        const start = performance.now();
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: ME,
        });
        const body = (await response.json()) as { data?: { me?: { id: string } } };
        if (!body.data?.me) throw new Error(`${label}: me failed: ${JSON.stringify(body)}`);
        samples.push(performance.now() - start);
      }
      if (run === 0) continue; // warm-up
      const s = summarize(samples);
      p50s.push(s.p50);
      p99s.push(s.p99);
      console.log(`${label} run ${run}: ${s.n} sequential requests, p50 ${ms(s.p50)}, p99 ${ms(s.p99)}`);
    }
    console.log(`${label}: median of ${runs} runs: p50 ${ms(median(p50s))}, p99 ${ms(median(p99s))}\n`);
  }

  console.log(
    `me: ${requests} requests per run, ${runs} runs after a warm-up; ${cpus().length} cores, Node ${process.versions.node}\n`,
  );
  await measure("auth subgraph directly", `${authUrl}/graphql`, { authorization: `Bearer ${token}` });
  await measure("through the gateway (cookie)", `http://127.0.0.1:${port}/graphql`, { cookie });

  await gateway.close();
  await identity.stop();
  await auth.close();
  await nc.close();
});
