/**
 * The spans the kernel and modules make, and W3C trace context in and out of carriers (HTTP headers, event
 * envelopes, outbox rows, job data). Everything here is a no-op costing one boolean check until `startTracing`
 * has switched tracing on: the OpenTelemetry API is process-global by design, and so is this switch.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';

let on = false;

/** Set by startTracing and stopTracing only. */
export function setTracingOn(value: boolean): void {
  on = value;
}

/** True while spans are recorded and exported. */
export function tracingOn(): boolean {
  return on;
}

/** What a span is: the OpenTelemetry kinds, by name. */
export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

const KINDS: Record<SpanKindName, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

/** Options of one span. */
export interface SpanOptions {
  kind?: SpanKindName;
  attributes?: Attributes;
  /** The parent as a `traceparent` value (from an envelope, a row, a job); default: the active span. */
  parent?: string | null;
}

/** Marks the span failed with the error's message, as every span helper here does on a throw. */
export function recordError(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/**
 * Runs `fn` inside a new active span named `name`, ending it when `fn` settles (failed when it throws). With tracing
 * off it just calls `fn`.
 */
export function withSpan<T>(name: string, opts: SpanOptions, fn: (span?: Span) => Promise<T>): Promise<T> {
  if (!on) return fn();
  const parent = opts.parent === undefined ? context.active() : contextOf(opts.parent);
  const span = trace.getTracer('capstan').startSpan(name, { kind: KINDS[opts.kind ?? 'internal'], attributes: opts.attributes }, parent);
  return context.with(trace.setSpan(parent, span), async () => {
    try {
      return await fn(span);
    } catch (err) {
      recordError(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The context a `traceparent` value continues (the root context for none or a malformed one). */
export function contextOf(traceparent: string | null | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** The active span as a `traceparent` value, to carry to another process; undefined with tracing off or no span. */
export function currentTraceparent(): string | undefined {
  if (!on) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** Adds `traceparent` (and `tracestate`) of the active span to outgoing HTTP headers. */
export function injectHeaders(headers: Record<string, string>): void {
  if (on) propagation.inject(context.active(), headers);
}

/** The active trace id (32 hex digits), for log lines and problem bodies; undefined with tracing off or no span. */
export function activeTraceId(): string | undefined {
  if (!on) return undefined;
  const sc = trace.getSpan(context.active())?.spanContext();
  return sc && trace.isSpanContextValid(sc) ? sc.traceId : undefined;
}

/** The active span and trace ids for a log line (pino mixin); empty with tracing off. */
export function traceLogFields(): { traceId?: string; spanId?: string } {
  if (!on) return {};
  const sc = trace.getSpan(context.active())?.spanContext();
  return sc && trace.isSpanContextValid(sc) ? { traceId: sc.traceId, spanId: sc.spanId } : {};
}

/** A valid W3C `traceparent`: version 00, 32 + 16 hex digits, flags. */
export const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
