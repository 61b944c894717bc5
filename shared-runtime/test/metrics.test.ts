// The metrics server of a process with children (the gateway and its live process): one scrape
// reports the sum of both, as prom-client adds up a cluster's workers.
import { scrapeMetrics } from "@ticketing/testkit";
import { Counter, Gauge, Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetricsServer, metrics, type MetricsServer, type ProcessMetrics } from "../src/index.js";

/** Another process's registry, with the same metrics as this one's. */
const child = new Registry();
const childSubscribers = new Gauge({
  name: "ticketing_live_subscribers",
  help: "as the child's",
  registers: [child],
});
const childDropped = new Counter({
  name: "ticketing_live_slow_consumers_dropped_total",
  help: "as the child's",
  registers: [child],
});

let server: MetricsServer;
let url: string;
let childAnswers = true;

beforeAll(async () => {
  server = createMetricsServer(async () =>
    childAnswers ? [(await child.getMetricsAsJSON())] : [],
  );
  url = `http://127.0.0.1:${(await server.listen(0, "127.0.0.1")).port}/metrics`;
});
afterAll(() => server?.close());

describe("createMetricsServer with the metrics of other processes", () => {
  it("reports each metric as the sum over the processes", async () => {
    metrics.liveSubscribers.set(2);
    childSubscribers.set(40);
    childDropped.inc(3);
    const scrape = await scrapeMetrics(url);
    expect(scrape.status).toBe(200);
    expect(scrape.value("ticketing_live_subscribers")).toBe(42);
    expect(scrape.value("ticketing_live_slow_consumers_dropped_total")).toBeGreaterThanOrEqual(3);
    // The processes' standard metrics are there too.
    expect(scrape.samples.some((sample) => sample.name === "process_cpu_user_seconds_total")).toBe(true);
  });

  it("reports its own when the others give nothing", async () => {
    metrics.liveSubscribers.set(5);
    childAnswers = false;
    expect((await scrapeMetrics(url)).value("ticketing_live_subscribers")).toBe(5);
  });
});
