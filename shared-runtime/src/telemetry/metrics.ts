// The process's Prometheus metrics: one registry, every metric defined here so that each service
// names and labels them alike (docs/operations.md, "Metrics"). Label values are bounded: operation
// names come from the schema, subjects from the catalogue, consumers and caches from the code.
// Hot paths use children created once per label set (`child`), not `labels()` per call.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { instrumentEvents, type ConsumerBacklogReading, type OutboxReading } from "@ticketing/shared-events";
import { GraphQLObjectType, Kind, type GraphQLSchema, type OperationDefinitionNode } from "graphql";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export const metricsRegistry = new Registry();
// Event loop lag, heap and GC, CPU, file descriptors: prom-client's standard names.
collectDefaultMetrics({ register: metricsRegistry });

const registers = [metricsRegistry];
/** Seconds: from 5 ms (a read from memory) to 10 s (a request about to time out). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds a hold ended late: from 10 ms to 5 minutes. */
const LATENESS_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** A request's outcome: answered without errors, refused for the client's reason, or failed here. */
export type RequestOutcome = "ok" | "client_error" | "server_error";

export const metrics = {
  graphqlRequests: new Counter({
    name: "ticketing_graphql_requests_total",
    help: "GraphQL requests answered, by operation (the schema's root field, or `other`) and outcome.",
    labelNames: ["operation", "outcome"] as const,
    registers,
  }),
  graphqlDuration: new Histogram({
    name: "ticketing_graphql_request_duration_seconds",
    help: "Time from a GraphQL request's arrival to its answer, by operation and outcome.",
    labelNames: ["operation", "outcome"] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  }),
  subgraphRequests: new Counter({
    name: "ticketing_gateway_subgraph_requests_total",
    help: "The gateway's fetches from its subgraphs, by subgraph and outcome.",
    labelNames: ["subgraph", "outcome"] as const,
    registers,
  }),
  subgraphDuration: new Histogram({
    name: "ticketing_gateway_subgraph_request_duration_seconds",
    help: "Time of the gateway's fetches from its subgraphs, by subgraph and outcome.",
    labelNames: ["subgraph", "outcome"] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  }),
  eventsPublished: new Counter({
    name: "ticketing_events_published_total",
    help: "Events acknowledged by the stream (duplicates the stream dropped included), by subject.",
    labelNames: ["subject"] as const,
    registers,
  }),
  eventPublishFailures: new Counter({
    name: "ticketing_events_publish_failures_total",
    help: "Publishes the stream did not acknowledge (retried by the outbox or the caller), by subject.",
    labelNames: ["subject"] as const,
    registers,
  }),
  eventsConsumed: new Counter({
    name: "ticketing_events_consumed_total",
    help: "Deliveries settled by a durable consumer, by consumer, subject and outcome (ack, retry, dead_letter, ignored).",
    labelNames: ["consumer", "subject", "outcome"] as const,
    registers,
  }),
  eventHandlingDuration: new Histogram({
    name: "ticketing_events_handling_duration_seconds",
    help: "Time to settle a delivery, the handler included, by consumer and subject.",
    labelNames: ["consumer", "subject"] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  }),
  eventRedeliveries: new Counter({
    name: "ticketing_events_redeliveries_total",
    help: "Deliveries that were not a message's first (a retry, or an ack that came too late), by consumer and subject.",
    labelNames: ["consumer", "subject"] as const,
    registers,
  }),
  deadLetters: new Counter({
    name: "ticketing_events_dead_lettered_total",
    help: "Messages given up on and copied to the dead-letter stream, by consumer and subject.",
    labelNames: ["consumer", "subject"] as const,
    registers,
  }),
  consumerPending: new Gauge({
    name: "ticketing_events_consumer_pending",
    help: "Messages on the stream a durable consumer has not been given yet (its lag), read from the server at each scrape.",
    labelNames: ["consumer"] as const,
    registers,
    collect: () => readConsumers(),
  }),
  consumerAckPending: new Gauge({
    name: "ticketing_events_consumer_ack_pending",
    help: "Messages given to a durable consumer and not acknowledged yet, read from the server at each scrape.",
    labelNames: ["consumer"] as const,
    registers,
    collect: () => readConsumers(),
  }),
  outboxPending: new Gauge({
    name: "ticketing_outbox_pending",
    help: "Logged events not yet acknowledged by the stream, as this process knows them, by log.",
    labelNames: ["log"] as const,
    registers,
    collect: () => readOutboxes(),
  }),
  outboxOldest: new Gauge({
    name: "ticketing_outbox_oldest_pending_seconds",
    help: "Age of the oldest logged event not yet acknowledged by the stream (0 when none), by log.",
    labelNames: ["log"] as const,
    registers,
    collect: () => readOutboxes(),
  }),
  expirationLateness: new Histogram({
    name: "ticketing_expiration_lateness_seconds",
    help: "How long after a hold's end its expiration job ran.",
    buckets: LATENESS_BUCKETS,
    registers,
  }),
  liveSubscribers: new Gauge({
    name: "ticketing_live_subscribers",
    help: "Live subscriptions served by this gateway.",
    registers,
  }),
  liveDelivery: new Histogram({
    name: "ticketing_live_delivery_seconds",
    help:
      "From a ticket change (its occurredAt) to its live subscribers, per audience: resolved through " +
      "the graph (stage resolved), then written to every subscriber's socket (stage written).",
    labelNames: ["stage"] as const,
    buckets: LATENESS_BUCKETS,
    registers,
  }),
  liveSlowConsumersDropped: new Counter({
    name: "ticketing_live_slow_consumers_dropped_total",
    help: "Live subscribers disconnected because they did not read their updates fast enough.",
    registers,
  }),
  rateLimitRefusals: new Counter({
    name: "ticketing_rate_limit_refusals_total",
    help: "Requests refused by a rate limit or admission control, by limiter.",
    labelNames: ["limiter"] as const,
    registers,
  }),
  cacheLookups: new Counter({
    name: "ticketing_cache_lookups_total",
    help: "Lookups in a cache, by cache and result (hit or miss).",
    labelNames: ["cache", "result"] as const,
    registers,
  }),
};

/**
 * A metric's children by label values, each created on first use and kept: `labels()` builds a
 * label object on every call, which the hot paths should not.
 */
function memo<T>(make: (values: string[]) => T): (...values: string[]) => T {
  const children = new Map<string, T>();
  return (...values) => {
    const key = values.join("\u0000");
    let child = children.get(key);
    if (child === undefined) {
      child = make(values);
      children.set(key, child);
    }
    return child;
  };
}

export function counterChildren(counter: Counter<string>): (...values: string[]) => Counter.Internal {
  return memo((values) => counter.labels(...values));
}

export function histogramChildren<T extends string>(
  histogram: Histogram<T>,
): (...values: string[]) => Histogram.Internal<T> {
  return memo((values) => histogram.labels(...values));
}

/** A counter with two results (a cache's hit and miss), both created at once. */
export function cacheCounters(cache: string): { hit: Counter.Internal; miss: Counter.Internal } {
  return {
    hit: metrics.cacheLookups.labels(cache, "hit"),
    miss: metrics.cacheLookups.labels(cache, "miss"),
  };
}

/** The counter of one limiter's refusals, created at once so that it reads 0 before the first. */
export function refusalCounter(limiter: string): Counter.Internal {
  const counter = metrics.rateLimitRefusals.labels(limiter);
  counter.inc(0);
  return counter;
}

// ---- Events: the plumbing in shared-events reports here.

const consumers = new Map<string, () => Promise<ConsumerBacklogReading>>();
const outboxes = new Map<string, Set<() => OutboxReading>>();
/** One reading of the consumers per scrape, though two gauges ask. */
let consumerReading: { at: number; done: Promise<void> } | undefined;
const CONSUMER_READ_TIMEOUT_MS = 2_000;

function readConsumers(): Promise<void> {
  const now = Date.now();
  if (consumerReading && now - consumerReading.at < 1_000) return consumerReading.done;
  const done = Promise.all(
    [...consumers].map(async ([consumer, read]) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const reading = await Promise.race([
          read(),
          new Promise<never>((_resolve, reject) => {
            timer = setTimeout(() => reject(new Error("timed out")), CONSUMER_READ_TIMEOUT_MS);
          }),
        ]);
        metrics.consumerPending.set({ consumer }, reading.pending);
        metrics.consumerAckPending.set({ consumer }, reading.ackPending);
      } catch {
        // The server cannot be asked now (NATS away): the consumer's lag is unknown, not zero.
        metrics.consumerPending.remove({ consumer });
        metrics.consumerAckPending.remove({ consumer });
      } finally {
        clearTimeout(timer);
      }
    }),
  ).then(() => undefined);
  consumerReading = { at: now, done };
  return done;
}

function readOutboxes(): void {
  const now = Date.now();
  for (const [log, readers] of outboxes) {
    let pending = 0;
    let oldestAt: number | undefined;
    for (const read of readers) {
      const reading = read();
      pending += reading.pending;
      if (reading.oldestAt !== undefined && (oldestAt === undefined || reading.oldestAt < oldestAt)) {
        oldestAt = reading.oldestAt;
      }
    }
    metrics.outboxPending.set({ log }, pending);
    metrics.outboxOldest.set({ log }, oldestAt === undefined ? 0 : Math.max(0, (now - oldestAt) / 1_000));
  }
}

const published = counterChildren(metrics.eventsPublished);
const publishFailures = counterChildren(metrics.eventPublishFailures);
const consumed = counterChildren(metrics.eventsConsumed);
const handling = histogramChildren(metrics.eventHandlingDuration);
const redeliveries = counterChildren(metrics.eventRedeliveries);
const deadLettered = counterChildren(metrics.deadLetters);

instrumentEvents({
  published: (subject) => published(subject).inc(),
  publishFailed: (subject) => publishFailures(subject).inc(),
  consumed(consumer, subject, outcome, seconds) {
    consumed(consumer, subject, outcome).inc();
    handling(consumer, subject).observe(seconds);
  },
  redelivered: (consumer, subject) => redeliveries(consumer, subject).inc(),
  deadLettered: (consumer, subject) => deadLettered(consumer, subject).inc(),
  consumerStarted(consumer, read) {
    consumers.set(consumer, read);
    return () => {
      if (consumers.get(consumer) !== read) return;
      consumers.delete(consumer);
      metrics.consumerPending.remove({ consumer });
      metrics.consumerAckPending.remove({ consumer });
    };
  },
  outboxStarted(log, read) {
    let readers = outboxes.get(log);
    if (!readers) outboxes.set(log, (readers = new Set()));
    readers.add(read);
    return () => {
      readers.delete(read);
      if (readers.size > 0) return;
      outboxes.delete(log);
      metrics.outboxPending.remove({ log });
      metrics.outboxOldest.remove({ log });
    };
  },
});

// ---- GraphQL requests.

/** Codes that say the request was the client's mistake or not allowed; any other error is ours. */
const CLIENT_CODES = new Set([
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "BAD_USER_INPUT",
  "CONFLICT",
  "RATE_LIMITED",
  "BAD_REQUEST",
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
]);

export function requestOutcome(
  errors: readonly { extensions?: Record<string, unknown> }[] | undefined,
  status: number | undefined,
): RequestOutcome {
  if (status !== undefined && status >= 500) return "server_error";
  if (!errors || errors.length === 0) return "ok";
  if (status !== undefined && status >= 400) return "client_error";
  for (const error of errors) {
    const code = error.extensions?.code;
    if (typeof code !== "string" || !CLIENT_CODES.has(code)) return "server_error";
  }
  return "client_error";
}

/**
 * The operation's label: its first root field when the schema has it (`listings`, `createOrder`,
 * `_entities`), else `other` (introspection, an unknown or unparsable document). Bounded by the
 * schema, whatever names clients give their operations.
 */
export function operationLabel(
  operation: OperationDefinitionNode | undefined,
  schema: GraphQLSchema,
): string {
  if (!operation) return "other";
  const root = schema.getRootType(operation.operation);
  if (!(root instanceof GraphQLObjectType)) return "other";
  const fields = root.getFields();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) continue;
    const name = selection.name.value;
    if (name === "__typename") continue;
    return Object.hasOwn(fields, name) ? name : "other";
  }
  return "other";
}

/** Counts and times every GraphQL request by operation and outcome (the subgraphs' and the gateway's). */
export function requestMetricsPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  const counted = counterChildren(metrics.graphqlRequests);
  const timed = histogramChildren(metrics.graphqlDuration);
  return {
    requestDidStart() {
      const started = performance.now();
      let operation = "other";
      return Promise.resolve({
        didResolveOperation({ operation: resolved, schema }) {
          operation = operationLabel(resolved, schema);
          return Promise.resolve();
        },
        willSendResponse({ errors, response }) {
          const outcome = requestOutcome(errors, response.http.status);
          counted(operation, outcome).inc();
          timed(operation, outcome).observe((performance.now() - started) / 1_000);
          return Promise.resolve();
        },
      });
    },
  };
}

// ---- Exposition.

/** The scrape's answer: the registry in Prometheus text, to a GET or HEAD. */
export async function serveMetrics(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
    res.end("method not allowed\n");
    return;
  }
  try {
    const body = await metricsRegistry.metrics();
    res.writeHead(200, { "content-type": metricsRegistry.contentType, "cache-control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : body);
  } catch (error) {
    res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
    res.end(`metrics unavailable: ${(error as Error).message}\n`);
  }
}

export interface MetricsServer {
  httpServer: Server;
  listen(port: number, host?: string): Promise<{ port: number }>;
  close(): Promise<void>;
}

/**
 * A server of `/metrics` alone, for a process whose own port is public (the gateway): the
 * metrics stay on an internal port that no ingress routes to.
 */
export function createMetricsServer(): MetricsServer {
  const httpServer = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path === "/metrics") return void serveMetrics(req, res);
    res.writeHead(404, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify({ error: "not found" }));
  });
  return {
    httpServer,
    async listen(port, host = "0.0.0.0") {
      await new Promise<void>((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(port, host, () => {
          httpServer.off("error", reject);
          resolve();
        });
      });
      return { port: (httpServer.address() as AddressInfo).port };
    },
    async close() {
      if (!httpServer.listening) return;
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
    },
  };
}
