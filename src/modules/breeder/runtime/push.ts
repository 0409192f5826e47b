/**
 * Pushes the breeder metrics to a Prometheus Pushgateway (`modules.breeder.push`), for workers that live shorter
 * than a scrape interval: every `interval`, and once more when the module stops, so a short-lived worker's last
 * counts arrive. Each push is a PUT of the breeder_* series under the grouping key job/<job>/instance/<instance>,
 * which replaces that group's previous push (the counters are cumulative per process, as on /metrics).
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../../../kernel/index.ts';

/** The series this module owns (runtime/metrics.ts). */
const SERIES = ['breeder_trials_total', 'breeder_trial_phase_seconds', 'breeder_best_value', 'breeder_active_workers'];

/** Where and how often to push. */
export interface PushSettings {
  url: string;
  intervalMs: number;
  job: string;
  instance: string;
}

/** A running pusher. */
export interface MetricsPusher {
  /** One push now; resolves false (and logs) when the gateway refused it or could not be reached. */
  pushOnce(): Promise<boolean>;
  /** Stops the timer and pushes a last time. */
  stop(): Promise<void>;
}

/** The Pushgateway URL of a grouping key (each label value URL-encoded). */
export function pushUrl(s: Pick<PushSettings, 'url' | 'job' | 'instance'>): string {
  return `${s.url.replace(/\/+$/, '')}/metrics/job/${encodeURIComponent(s.job)}/instance/${encodeURIComponent(s.instance)}`;
}

/** The breeder series in the Prometheus text format. */
export async function breederMetricsText(registry: Registry): Promise<string> {
  const parts: string[] = [];
  for (const name of SERIES) if (registry.getSingleMetric(name)) parts.push(await registry.getSingleMetricAsString(name));
  return `${parts.join('\n')}\n`;
}

/** Starts pushing; a failed push is logged and retried at the next interval. */
export function startPush(registry: Registry, s: PushSettings, log: Logger): MetricsPusher {
  const url = pushUrl(s);
  let failing = false;
  const pushOnce = async (): Promise<boolean> => {
    try {
      const res = await fetch(url, { method: 'PUT', headers: { 'content-type': 'text/plain; version=0.0.4' }, body: await breederMetricsText(registry), signal: AbortSignal.timeout(Math.max(1000, s.intervalMs)) });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`the gateway answered ${res.status}`);
      if (failing) log.info({ url }, 'pushing breeder metrics again');
      failing = false;
      return true;
    } catch (err) {
      // One warning per outage, not one per interval.
      if (!failing) log.warn({ url, err: (err as Error).message }, 'could not push breeder metrics to the Pushgateway');
      failing = true;
      return false;
    }
  };
  const timer = setInterval(() => void pushOnce(), s.intervalMs);
  timer.unref?.();
  return {
    pushOnce,
    async stop() {
      clearInterval(timer);
      await pushOnce();
    },
  };
}
