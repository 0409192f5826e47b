/** dependency_up and dependency_latency_seconds: the /readyz checks, run at scrape time, so alerts see each dependency. */
import { Gauge, type Registry } from 'prom-client';
import { readiness } from './http/health-routes.ts';
import type { Resources } from './resources.ts';

/** Registers the two gauges; one readiness check serves both within a scrape. */
export function registerReadinessMetrics(r: Resources, registry: Registry, timeoutMs = 2_000): void {
  let last: ReturnType<typeof readiness> | undefined;
  const read = () =>
    (last ??= readiness(r, timeoutMs).finally(() => {
      // Both gauges of one scrape reuse this check; the next scrape checks again.
      setTimeout(() => (last = undefined), 0);
    }));
  new Gauge({
    name: 'dependency_up',
    help: '1 when the dependency answered its readiness check at scrape time, 0 otherwise (as /readyz)',
    labelNames: ['dependency', 'kind'] as const,
    registers: [registry],
    async collect() {
      const { dependencies } = await read();
      this.reset();
      for (const [name, d] of Object.entries(dependencies)) this.set({ dependency: name, kind: d.kind }, d.ok ? 1 : 0);
    },
  });
  new Gauge({
    name: 'dependency_latency_seconds',
    help: 'How long the dependency took to answer its readiness check at scrape time',
    labelNames: ['dependency'] as const,
    registers: [registry],
    async collect() {
      const { dependencies } = await read();
      this.reset();
      for (const [name, d] of Object.entries(dependencies)) this.set({ dependency: name }, d.latencyMs / 1000);
    },
  });
}
