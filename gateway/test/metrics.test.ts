// The gateway's /metrics, on its internal port (METRICS_PORT) and nowhere on the public one: the
// gateway as deployed (its service), in front of real auth and tickets subgraphs.
import { infra, natsUrlFor, scrapeMetrics } from "@ticketing/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEnv } from "../src/env.js";
import { gatewayService } from "../src/service.js";
import { startAuth, type RunningAuth } from "./auth.js";
import { spaFixture, startTickets } from "./support.js";

/** What Prometheus sends: it would take the SPA's HTML shell if it were served. */
const PROMETHEUS_ACCEPT =
  "application/openmetrics-text;version=1.0.0;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

let auth: RunningAuth;
let tickets: Awaited<ReturnType<typeof startTickets>>;
let gateway: Awaited<ReturnType<typeof gatewayService.start>>;
let publicUrl: string;
let metricsUrl: string;

beforeAll(async () => {
  auth = await startAuth();
  tickets = await startTickets(`${auth.baseUrl}/.well-known/jwks.json`);
  const env = loadEnv({
    NATS_URL: natsUrlFor("gateway"),
    AUTH_URL: auth.baseUrl,
    SUBGRAPH_AUTH_URL: `${auth.baseUrl}/graphql`,
    SUBGRAPH_TICKETS_URL: tickets.url,
    REDIS_URL: infra().redisUrl,
    WEB_ROOT: await spaFixture(),
    LOG_LEVEL: "silent",
    METRICS_PORT: "0",
  });
  gateway = await gatewayService.start(env);
  const { port, metricsPort } = await gateway.listen(0, "127.0.0.1");
  publicUrl = `http://127.0.0.1:${port}`;
  metricsUrl = `http://127.0.0.1:${metricsPort}`;
});

afterAll(async () => {
  await gateway?.close();
  await tickets?.stop();
  await auth?.stop();
});

async function graphql(query: string) {
  const response = await fetch(`${publicUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as { errors?: unknown[] } };
}

describe("the gateway's metrics", () => {
  it("count operations by root field, subgraph fetches by subgraph, and the response cache's hits", async () => {
    // A process has one registry, shared with the test files before this one: what counts is what
    // these requests added.
    const before = await scrapeMetrics(`${metricsUrl}/metrics`);
    expect(before.status).toBe(200);
    // Present before anything is refused or dropped, so that a rate of them reads 0, not nothing.
    expect(
      before.value("ticketing_rate_limit_refusals_total", { limiter: "gateway_anonymous" }),
    ).toBeDefined();
    expect(before.value("ticketing_live_subscribers")).toBeDefined();
    expect(before.value("ticketing_live_slow_consumers_dropped_total")).toBeDefined();

    const events = "query AnyNameAClientPicks { events(first: 1) { edges { node { id } } } }";
    expect((await graphql(events)).body.errors).toBeUndefined();
    expect((await graphql(events)).body.errors).toBeUndefined();
    expect((await graphql("{ nosuchfield }")).status).toBe(400);

    const after = await scrapeMetrics(`${metricsUrl}/metrics`);
    expect(after.status).toBe(200);
    const added = after.since(before);
    // The tickets subgraph runs in this process too: the gateway's two answers, and tickets' one
    // (the second answer came from the gateway's cache).
    expect(added.value("ticketing_graphql_requests_total", { operation: "events", outcome: "ok" })).toBe(3);
    expect(
      added.value("ticketing_graphql_request_duration_seconds_count", { operation: "events", outcome: "ok" }),
    ).toBe(3);
    expect(
      added.value("ticketing_graphql_requests_total", { operation: "other", outcome: "client_error" }),
    ).toBe(1);
    expect(
      after.value("ticketing_graphql_requests_total", { operation: "AnyNameAClientPicks" }),
    ).toBeUndefined();
    // The second answer came from the cache: tickets was asked once.
    expect(added.value("ticketing_cache_lookups_total", { cache: "response", result: "miss" })).toBe(1);
    expect(added.value("ticketing_cache_lookups_total", { cache: "response", result: "hit" })).toBe(1);
    expect(
      added.value("ticketing_gateway_subgraph_requests_total", { subgraph: "tickets", outcome: "ok" }),
    ).toBe(1);
    expect(
      added.value("ticketing_gateway_subgraph_request_duration_seconds_count", { subgraph: "tickets" }),
    ).toBe(1);
    expect(after.value("nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
  });

  it("are not on the public port, whatever the scraper accepts", async () => {
    for (const accept of [PROMETHEUS_ACCEPT, "text/html", "text/plain"]) {
      const response = await fetch(`${publicUrl}/metrics`, { headers: { accept } });
      expect(response.status, accept).toBe(404);
      expect(await response.text()).not.toContain("ticketing_");
    }
    // The SPA's routes are still served there, and the graph is not on the metrics port.
    expect((await fetch(`${publicUrl}/some/page`, { headers: { accept: "text/html" } })).status).toBe(200);
    expect((await fetch(`${metricsUrl}/graphql`)).status).toBe(404);
  });
});
