// Events carry their trace (docs/adr/0006-traces-and-metrics.md): the publisher puts the context of
// the command that raised an event in the message's headers (`traceparent`, `tracestate`), and a
// consumer handles the event in a span whose parent is that context, so the event continues the
// command's trace. Only the API is used here: the process's tracer provider and propagator are the
// shared runtime's, and without them all of this does nothing.
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from "@opentelemetry/api";
import type { MsgHdrs } from "@nats-io/transport-node";

const tracer = () => trace.getTracer("@ticketing/shared-events");

/** A trace context as it travels: W3C `traceparent` and `tracestate`. */
export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** The active trace context as a carrier; undefined outside any trace. */
export function currentTraceCarrier(active: Context = context.active()): TraceCarrier | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(active, carrier);
  return carrier.traceparent === undefined ? undefined : carrier;
}

/** Writes `carrier` into headers: a message's, or an HTTP request's. */
export function setTraceHeaders(
  headers: { set(key: string, value: string): unknown },
  carrier: TraceCarrier,
): void {
  if (carrier.traceparent) headers.set("traceparent", carrier.traceparent);
  if (carrier.tracestate) headers.set("tracestate", carrier.tracestate);
}

/** The trace context a message's headers (or a carrier kept elsewhere) hold, under the active one. */
export function traceContextOf(
  headers: MsgHdrs | TraceCarrier | undefined,
  base: Context = context.active(),
): Context {
  if (!headers) return base;
  if (!isHeaders(headers)) return headers.traceparent ? propagation.extract(base, headers) : base;
  if (!headers.has("traceparent")) return base;
  return propagation.extract(base, headers, {
    keys: () => headers.keys(),
    get: (carrier, key) => (carrier.has(key) ? carrier.get(key) : undefined),
  });
}

function isHeaders(value: MsgHdrs | TraceCarrier): value is MsgHdrs {
  return typeof (value as MsgHdrs).has === "function";
}

/**
 * Awaits `work`, then ends `span`; a failure marks the span as an error (with its message) and is
 * thrown on. Every span the services open around an awaited call ends this way.
 */
export async function endSpanWith<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Runs `work` in a consumer span named after the subject, child of the context the message carries
 * (a new trace when it carries none); the span records the outcome and ends with the work. A job
 * handed on with a kept carrier (`TraceCarrier`) is run so too.
 */
export async function inConsumerSpan<T>(
  subject: string,
  headers: MsgHdrs | TraceCarrier | undefined,
  attributes: Record<string, string | number>,
  work: () => Promise<T>,
): Promise<T> {
  const parent = traceContextOf(headers);
  const span = tracer().startSpan(
    `process ${subject}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        "messaging.system": "nats",
        "messaging.operation.type": "process",
        "messaging.destination.name": subject,
        ...attributes,
      },
    },
    parent,
  );
  return endSpanWith(span, () => context.with(trace.setSpan(parent, span), work));
}

/**
 * Runs `publish` in a producer span, child of `from` (the command's context kept with an outbox
 * entry) or of the active context, handing it the carrier to put in the message's headers.
 */
export async function inProducerSpan<T>(
  subject: string,
  from: TraceCarrier | undefined,
  publish: (carrier: TraceCarrier | undefined) => Promise<T>,
): Promise<T> {
  const parent = from?.traceparent ? propagation.extract(context.active(), from) : context.active();
  if (!trace.getSpan(parent)) return publish(undefined);
  const span = tracer().startSpan(
    `publish ${subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        "messaging.system": "nats",
        "messaging.operation.type": "send",
        "messaging.destination.name": subject,
      },
    },
    parent,
  );
  const active = trace.setSpan(parent, span);
  return endSpanWith(span, () => context.with(active, () => publish(currentTraceCarrier(active))));
}
