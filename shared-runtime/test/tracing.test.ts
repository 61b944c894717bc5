// Export off: nothing is recorded or sent and no context manager runs, yet every line of a request
// carries its trace id, the caller's when it sent a traceparent. A process sets up its tracer provider
// once, and every test file of this package that does so turns export off: the export-on case runs
// in a child process (tracing-export.test.ts).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { context, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestScope, requestScoping } from "../src/logger.js";
import {
  requestTraceContext,
  startTracing,
  traceOperations,
  tracingSettings,
  type Tracing,
} from "../src/telemetry/tracing.js";
import { capturingLogger, listeningCollector } from "./support.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

describe("tracingSettings", () => {
  it("sends nowhere without an endpoint, to <endpoint>/v1/traces or the traces endpoint as it is", () => {
    expect(tracingSettings("orders", {})).toEqual({
      serviceName: "orders",
      tracesUrl: undefined,
      protocol: "http/protobuf",
      ratio: 1,
      headers: {},
    });
    expect(
      tracingSettings("orders", { OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" }).tracesUrl,
    ).toBe("http://collector:4318/v1/traces");
    expect(
      tracingSettings("orders", {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://traces:4318/custom",
        OTEL_SERVICE_NAME: "orders-eu",
        OTEL_TRACES_SAMPLER_ARG: 0.1,
      }),
    ).toMatchObject({ serviceName: "orders-eu", tracesUrl: "http://traces:4318/custom", ratio: 0.1 });
    expect(
      tracingSettings("orders", {
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
        OTEL_SDK_DISABLED: "true",
      }).tracesUrl,
    ).toBeUndefined();
  });
});

describe("with export off", () => {
  let collector: Awaited<ReturnType<typeof listeningCollector>>;
  let tracing: Tracing;
  const { logger, lines } = capturingLogger();
  let server: Server;
  let url: string;

  beforeAll(async () => {
    collector = await listeningCollector();
    // An endpoint, but the SDK disabled: nothing may reach it.
    tracing = startTracing("test", {
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SDK_DISABLED: "true",
    });
    const app = express();
    app.use(requestScoping(logger));
    app.post("/graphql", express.json(), traceOperations(), (req, res) => {
      const span = trace.getSpan(requestTraceContext(req) ?? ROOT_CONTEXT);
      requestScope(req).logger.info({ recording: span?.isRecording() }, "resolving");
      res.json({ ok: true });
    });
    server = createServer(app);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await collector.close();
  });

  const post = (headers: Record<string, string> = {}) =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: "{}" });

  it("records and sends no span, yet each line of a request names its trace and its request", async () => {
    expect(tracing.recording).toBe(false);
    const before = lines().length;
    expect((await post({ traceparent: TRACEPARENT, "x-request-id": "req-1" })).status).toBe(200);
    expect((await post()).status).toBe(200);
    await sleep(50);
    const mine = lines().slice(before);
    expect(mine.map((line) => line.msg)).toEqual([
      "resolving",
      "request completed",
      "resolving",
      "request completed",
    ]);
    for (const line of mine) {
      expect(line.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(line.spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(line.requestId).toEqual(expect.any(String));
    }
    // The caller's trace goes on; a request without one starts its own.
    expect(mine[0]).toMatchObject({ traceId: TRACE_ID, requestId: "req-1", recording: false });
    expect(mine[1]).toMatchObject({ traceId: TRACE_ID, requestId: "req-1" });
    expect(mine[2]?.traceId).not.toBe(TRACE_ID);
    expect(mine[3]?.traceId).toBe(mine[2]?.traceId);
    expect(mine[2]?.recording).toBe(false);

    await tracing.flush();
    await sleep(200);
    expect(collector.received()).toHaveLength(0);
  });

  it("runs no context manager: nothing follows the process's promises", async () => {
    const key = Symbol("probe");
    const seen = await context.with(ROOT_CONTEXT.setValue(key, 1), async () => {
      await sleep(1);
      return context.active().getValue(key);
    });
    expect(seen).toBeUndefined();
  });

  it("a line outside any request or trace has no trace id", () => {
    logger.info("idle");
    const line = lines().at(-1);
    expect(line).toMatchObject({ msg: "idle" });
    expect(line).not.toHaveProperty("traceId");
  });
});
