// Traces (docs/adr/0006-traces-and-metrics.md): one tracer provider per process, set up from the
// standard OTEL_* variables, and the spans made where the runtime already stands: a server span
// per GraphQL operation, a client span per subgraph fetch, a client span per MongoDB command. The
// event spans are shared-events' (they need only the API). Without an endpoint nothing records and
// no context manager runs (docs/adr/0008-trace-ids-without-a-context-manager.md): a request still
// gets a trace id, its caller's or a new one, which its log lines carry and the gateway passes on
// to the subgraphs.
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from "@opentelemetry/api";
import type { ApolloServerPlugin } from "@apollo/server";
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { endSpanWith } from "@ticketing/shared-events";
import type { Request, RequestHandler } from "express";
import type { mongo } from "mongoose";
import type { TracingEnv } from "../env.js";

/** The tracer every span of the runtime is made by. */
const TRACER = "@ticketing/shared-runtime";
const tracer = () => trace.getTracer(TRACER);

export type TraceProtocol = "http/protobuf" | "http/json";

/** How this process traces, read from the standard variables. */
export interface TracingSettings {
  serviceName: string;
  /** Where spans go (OTLP over HTTP); undefined: nowhere, and nothing records. */
  tracesUrl: string | undefined;
  protocol: TraceProtocol;
  /** The share of new traces recorded (a trace started upstream follows its parent's choice). */
  ratio: number;
  /** Sent with every export (OTEL_EXPORTER_OTLP_HEADERS). */
  headers: Record<string, string>;
}

/**
 * The settings from the parsed variables: OTEL_SERVICE_NAME (else the service's name),
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as it is) or OTEL_EXPORTER_OTLP_ENDPOINT (+ /v1/traces),
 * OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_HEADERS, OTEL_TRACES_SAMPLER_ARG;
 * OTEL_SDK_DISABLED=true sends nothing.
 */
export function tracingSettings(defaultName: string, env: Partial<TracingEnv> = {}): TracingSettings {
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const tracesUrl =
    env.OTEL_SDK_DISABLED === "true"
      ? undefined
      : (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
        (base === undefined ? undefined : `${base.replace(/\/+$/, "")}/v1/traces`));
  return {
    serviceName: env.OTEL_SERVICE_NAME ?? defaultName,
    tracesUrl,
    protocol: env.OTEL_EXPORTER_OTLP_PROTOCOL ?? "http/protobuf",
    ratio: env.OTEL_TRACES_SAMPLER_ARG ?? 1,
    headers: env.OTEL_EXPORTER_OTLP_HEADERS ?? {},
  };
}

export interface Tracing {
  settings: TracingSettings;
  /** Whether spans are recorded and exported (an endpoint is configured). */
  recording: boolean;
  /** Sends the spans still batched; a shutdown step. */
  flush(): Promise<void>;
}

let installed: Tracing | undefined;

/**
 * The OTLP exporter of `protocol`, imported when made: a process that exports nothing never loads
 * the exporters (a tenth of a second of every start).
 */
class OtlpExporter implements SpanExporter {
  private readonly exporter: Promise<SpanExporter>;

  constructor(protocol: TraceProtocol, target: { url: string; headers: Record<string, string> }) {
    this.exporter =
      protocol === "http/json"
        ? import("@opentelemetry/exporter-trace-otlp-http").then((m) => new m.OTLPTraceExporter(target))
        : import("@opentelemetry/exporter-trace-otlp-proto").then((m) => new m.OTLPTraceExporter(target));
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.exporter.then(
      (exporter) => exporter.export(spans, resultCallback),
      (error: unknown) => resultCallback({ code: ExportResultCode.FAILED, error: error as Error }),
    );
  }

  async shutdown(): Promise<void> {
    await (await this.exporter).shutdown();
  }

  async forceFlush(): Promise<void> {
    await (await this.exporter).forceFlush?.();
  }
}

/**
 * Sets up the process's tracer provider once (later calls return the first): the W3C trace
 * context propagator, and with an endpoint the AsyncLocalStorage context manager and a batch
 * processor exporting OTLP over HTTP, sampling parent-based at the configured ratio. Without one
 * the sampler records nothing and there is no context manager: on Node 20, AsyncLocalStorage
 * follows every promise of the process through a hook, a cost paid only when spans are wanted.
 */
export function startTracing(serviceName: string, env: Partial<TracingEnv> = {}): Tracing {
  if (installed) return installed;
  const settings = tracingSettings(serviceName, env);
  let sampler: Sampler = new AlwaysOffSampler();
  const spanProcessors = [];
  if (settings.tracesUrl !== undefined) {
    sampler = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(settings.ratio) });
    const exporter = new OtlpExporter(settings.protocol, {
      url: settings.tracesUrl,
      headers: settings.headers,
    });
    spanProcessors.push(new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1_000 }));
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": settings.serviceName }),
    sampler,
    spanProcessors,
  });
  const recording = settings.tracesUrl !== undefined;
  provider.register({
    propagator: new W3CTraceContextPropagator(),
    ...(!recording && { contextManager: null }),
  });
  installed = {
    settings,
    recording,
    flush: () => provider.forceFlush(),
  };
  return installed;
}

/** Whether this process records spans (an endpoint configured); false before `startTracing`. */
export function tracesRecorded(): boolean {
  return installed?.recording ?? false;
}

export interface TraceIds {
  traceId: string;
  spanId: string;
}

/** The ids of the span `of` holds (the active one by default), for a log line; undefined outside any trace. */
export function activeTraceIds(of: Context = context.active()): TraceIds | undefined {
  const span = trace.getSpan(of);
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return trace.isSpanContextValid(span.spanContext()) ? { traceId, spanId } : undefined;
}

/** `headers` (a request's or a message's) as a carrier the propagator reads from. */
function headerGetter(headers: Record<string, string | string[] | undefined>) {
  return {
    keys: () => Object.keys(headers),
    get: (carrier: typeof headers, key: string) => carrier[key],
  };
}

const requestContexts = new WeakMap<Request, Context>();

/** The trace context a request's operation runs in, once `traceOperations` gave it one. */
export function requestTraceContext(req: Request): Context | undefined {
  return requestContexts.get(req);
}

/**
 * Express middleware for `/graphql`, after the body is read: a server span per request, continuing
 * the caller's `traceparent`, active while the rest of the request runs (the operation plugin names
 * it); ended when the answer is sent.
 */
export function traceOperations(): RequestHandler {
  return (req, res, next) => {
    const parent = propagation.extract(context.active(), req.headers, headerGetter(req.headers));
    const span = tracer().startSpan("graphql", { kind: SpanKind.SERVER }, parent);
    const active = trace.setSpan(parent, span);
    requestContexts.set(req, active);
    if (span.isRecording()) {
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        span.setAttribute("http.response.status_code", res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      };
      res.once("finish", end);
      res.once("close", end);
    }
    context.with(active, next);
  };
}

/**
 * Apollo plugin: names the request's span after its operation and sets its type, the client kind
 * and the outcome (`ok`, or the first error's code). In a process that records nothing (made after
 * `startTracing`), a plugin without hooks: Apollo calls nothing of it per request.
 */
export function operationTracingPlugin<TContext extends object>(
  clientKind?: (context: TContext) => string | undefined,
): ApolloServerPlugin<TContext> {
  if (!tracesRecorded()) return {};
  return {
    requestDidStart() {
      const span = trace.getSpan(context.active());
      if (!span?.isRecording()) return Promise.resolve();
      return Promise.resolve({
        didResolveOperation({ operationName, operation, contextValue }) {
          if (!operation) return Promise.resolve();
          span.updateName(`${operation.operation} ${operationName ?? "anonymous"}`);
          span.setAttribute("graphql.operation.type", operation.operation);
          if (operationName) span.setAttribute("graphql.operation.name", operationName);
          const kind = clientKind?.(contextValue);
          if (kind) span.setAttribute("ticketing.client.kind", kind);
          return Promise.resolve();
        },
        willSendResponse({ response }) {
          const errors = response.body.kind === "single" ? response.body.singleResult.errors : undefined;
          const given = errors?.[0]?.extensions?.code;
          const code = !errors?.length ? "ok" : typeof given === "string" ? given : "INTERNAL_SERVER_ERROR";
          span.setAttribute("ticketing.outcome", code);
          if (code !== "ok") span.setStatus({ code: SpanStatusCode.ERROR, message: code });
          return Promise.resolve();
        },
      });
    },
  };
}

/**
 * `fetcher` in a client span per call, with the span's `traceparent` (and `tracestate`) in the
 * request's headers, so the subgraph's server span is its child; as it is when nothing records.
 */
export function tracedFetch(peer: string, fetcher: typeof fetch): typeof fetch {
  return async (input, init) => {
    // Not recorded: the caller put the request's own `traceparent` in the headers already.
    if (!tracesRecorded()) return fetcher(input, init);
    const parent = context.active();
    const span = tracer().startSpan(
      `fetch ${peer}`,
      { kind: SpanKind.CLIENT, attributes: { "peer.service": peer } },
      parent,
    );
    const headers = new Headers(init?.headers);
    propagation.inject(trace.setSpan(parent, span), headers, {
      set: (carrier, key, value) => carrier.set(key, value),
    });
    return endSpanWith(span, async () => {
      const response = await fetcher(input, { ...init, headers });
      if (span.isRecording()) {
        span.setAttribute("http.response.status_code", response.status);
        if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      }
      return response;
    });
  };
}

const MONGO_SPANS_OPEN_MAX = 10_000;

/**
 * A client span per command the driver sends (database, collection, command; never the
 * statement), from its command-monitoring events; only inside a recorded trace.
 */
export function traceMongoCommands(client: mongo.MongoClient): void {
  const open = new Map<number, Span>();
  client.on("commandStarted", (event) => {
    const parent: Context = context.active();
    if (!trace.getSpan(parent)?.isRecording() || open.size >= MONGO_SPANS_OPEN_MAX) return;
    const collection = event.command[event.commandName] as unknown;
    const span = tracer().startSpan(
      `${event.commandName}${typeof collection === "string" ? ` ${collection}` : ""}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          "db.system": "mongodb",
          "db.system.name": "mongodb",
          "db.name": event.databaseName,
          "db.namespace": event.databaseName,
          "db.operation.name": event.commandName,
          ...(typeof collection === "string" && { "db.collection.name": collection }),
        },
      },
      parent,
    );
    open.set(event.requestId, span);
  });
  client.on("commandSucceeded", (event) => {
    open.get(event.requestId)?.end();
    open.delete(event.requestId);
  });
  client.on("commandFailed", (event) => {
    const span = open.get(event.requestId);
    if (!span) return;
    open.delete(event.requestId);
    span.setStatus({ code: SpanStatusCode.ERROR, message: event.failure.message });
    span.end();
  });
}
