/** Prometheus metrics: one registry per process (no global), with the kernel's own series. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { JobQueue } from './queue/port.ts';

/** The kernel's metric handles; adapters get plain callbacks so they never import prom-client. */
export interface KernelMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  busHooks: { published(type: string): void; delivered(type: string): void };
  queueHooks: { completed(queue: string): void; failed(queue: string): void };
  /** Lets /metrics report queue depths from the live queue at scrape time. */
  watchQueue(queue: JobQueue): void;
}

/** The first two tokens of an event type keep label cardinality bounded (`workflow.run.created` -> `workflow.run`). */
function typeLabel(type: string): string {
  return type.split('.').slice(0, 2).join('.');
}

/** Creates the registry with process metrics, HTTP, bus and queue series. */
export function createMetrics(): KernelMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges with a counter's `_total` suffix, which promtool rejects; the
  // un-suffixed nodejs_active_* gauges it also exports carry the same numbers.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const published = new Counter({ name: 'bus_published_total', help: 'Events published, by type prefix', labelNames: ['type'] as const, registers: [registry] });
  const delivered = new Counter({ name: 'bus_delivered_total', help: 'Events delivered to handlers, by type prefix', labelNames: ['type'] as const, registers: [registry] });
  const completed = new Counter({ name: 'queue_jobs_completed_total', help: 'Jobs completed by this instance', labelNames: ['queue'] as const, registers: [registry] });
  const failed = new Counter({ name: 'queue_jobs_failed_total', help: 'Job attempts failed on this instance', labelNames: ['queue'] as const, registers: [registry] });
  let watched: JobQueue | undefined;
  new Gauge({
    name: 'queue_jobs',
    help: 'Jobs per queue and state, read from the queue backend at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      if (!watched) return;
      for (const q of watched.knownQueues()) {
        try {
          const counts = await watched.counts(q);
          for (const [state, n] of Object.entries(counts)) this.set({ queue: q, state }, n);
        } catch {
          // A scrape must not fail because the queue backend is down; /readyz reports that.
        }
      }
    },
  });
  return {
    registry,
    httpDuration,
    busHooks: { published: (t) => published.inc({ type: typeLabel(t) }), delivered: (t) => delivered.inc({ type: typeLabel(t) }) },
    queueHooks: { completed: (q) => completed.inc({ queue: q }), failed: (q) => failed.inc({ queue: q }) },
    watchQueue: (q) => {
      watched = q;
    },
  };
}
