/** Switches OpenTelemetry tracing on for this process when an OTLP endpoint is configured: spans go out as OTLP/HTTP JSON. */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { setTracingOn } from './spans.ts';

/** The `tracing` slice of the configuration. */
export interface TracingConfig {
  /** OTLP/HTTP traces URL (e.g. http://collector:4318/v1/traces); unset: tracing off. */
  endpoint?: string;
  serviceName: string;
  /** Fraction of new traces recorded (a trace started elsewhere follows its caller's decision). */
  sampleRatio: number;
  /** Extra headers on every export request (e.g. an API key of a hosted backend). */
  headers: Record<string, string>;
  /** How often finished spans are sent, in ms. */
  exportIntervalMs: number;
}

/** A started tracer; `shutdown` sends what is buffered and switches tracing off. */
export interface Tracing {
  readonly enabled: boolean;
  /** Sends buffered spans now (tests and shutdown). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

const OFF: Tracing = { enabled: false, flush: async () => {}, shutdown: async () => {} };

/** Starts tracing when `cfg.endpoint` is set; otherwise returns a handle that does nothing and leaves the API a no-op. */
export function startTracing(cfg: TracingConfig, about: { version: string; instanceId?: string }): Tracing {
  if (!cfg.endpoint) return OFF;
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const exporter = new OTLPTraceExporter({ url: cfg.endpoint, headers: cfg.headers });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: cfg.serviceName, [ATTR_SERVICE_VERSION]: about.version, 'service.instance.id': about.instanceId ?? `${process.pid}` }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(cfg.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: cfg.exportIntervalMs })],
  });
  trace.setGlobalTracerProvider(provider);
  setTracingOn(true);
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    flush: () => provider.forceFlush(),
    shutdown() {
      stopped ??= (async () => {
        await provider.shutdown().catch(() => {});
        setTracingOn(false);
        trace.disable();
        propagation.disable();
        context.disable();
      })();
      return stopped;
    },
  };
}
