// Export on: spans reach the configured collector with the configured headers, and the context
// manager carries the active span across awaits. A process of its own (vitest runs each file so),
// since a process sets up its tracer provider once.
import { setTimeout as sleep } from "node:timers/promises";
import { context, trace } from "@opentelemetry/api";
import { afterAll, beforeAll, expect, it } from "vitest";
import { z } from "zod";
import { parseEnv, tracingEnv, tracingEnvSchemas } from "../src/env.js";
import { activeTraceIds, startTracing, type Tracing } from "../src/telemetry/tracing.js";
import { listeningCollector } from "./support.js";

let collector: Awaited<ReturnType<typeof listeningCollector>>;
let tracing: Tracing;

beforeAll(async () => {
  collector = await listeningCollector();
  const env = parseEnv(z.object(tracingEnvSchemas), {
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20s3cret,x-tenant=box-office",
    OTEL_SERVICE_NAME: "export-test",
  });
  tracing = startTracing("test", tracingEnv(env));
});

afterAll(() => collector.close());

it("sends the spans to <endpoint>/v1/traces with the configured headers", async () => {
  expect(tracing.recording).toBe(true);
  const span = trace.getTracer("test").startSpan("checked");
  const ids = await context.with(trace.setSpan(context.active(), span), async () => {
    await sleep(1);
    return activeTraceIds();
  });
  span.end();
  // The active span survived the await: a context manager runs when spans are recorded.
  expect(ids).toEqual({ traceId: span.spanContext().traceId, spanId: span.spanContext().spanId });

  await tracing.flush();
  const [sent] = collector.received();
  expect(sent).toMatchObject({
    path: "/v1/traces",
    headers: { authorization: "Bearer s3cret", "x-tenant": "box-office" },
  });
  expect(sent?.body).toContain('"name":"checked"');
  expect(sent?.body).toContain("export-test");
});
