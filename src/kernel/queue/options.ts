/** Settings both JobQueue adapters share: group timeouts, stall detection, shutdown grace, retention, metrics. */
import type { WorkerGroup } from './port.ts';

/** Counters the HTTP shell plugs into /metrics (prom-client lives there, not here). */
export interface QueueMetricsHooks {
  /** A job completed on this instance. */
  completed(queue: string): void;
  /** A job attempt failed on this instance (the job may still be retried). */
  failed(queue: string): void;
}

/** Options common to MemoryQueue and BullmqQueue; every number is configurable so tests can shorten it. */
export interface QueueAdapterOptions {
  /** `controller` attempts are aborted and failed after this long. Default 120000. */
  controllerTimeoutMs?: number;
  /** `default` attempts are aborted and failed after this long. Default 600000. */
  defaultTimeoutMs?: number;
  /** How often abandoned jobs of dead workers are detected (also BullMQ's lock duration). Default 30000. */
  stalledIntervalMs?: number;
  /** How long `QueueWorker.close()` waits for active jobs before handing them back. Default 10000. */
  closeTimeoutMs?: number;
  /** Completed jobs kept per queue for inspection (and dedup). Default 1000. */
  keepCompleted?: number;
  /** Failed jobs kept per queue for inspection and retry. Default 5000. */
  keepFailed?: number;
  metrics?: QueueMetricsHooks;
}

/** The options with defaults filled in. */
export type QueueSettings = Required<Omit<QueueAdapterOptions, 'metrics'>> & Pick<QueueAdapterOptions, 'metrics'>;

/** How many times a job may be found stalled before it is failed instead of retried. */
export const MAX_STALLED_COUNT = 2;

/** Fills in the defaults. */
export function queueSettings(opts: QueueAdapterOptions = {}): QueueSettings {
  return {
    controllerTimeoutMs: opts.controllerTimeoutMs ?? 120_000,
    defaultTimeoutMs: opts.defaultTimeoutMs ?? 600_000,
    stalledIntervalMs: opts.stalledIntervalMs ?? 30_000,
    closeTimeoutMs: opts.closeTimeoutMs ?? 10_000,
    keepCompleted: opts.keepCompleted ?? 1_000,
    keepFailed: opts.keepFailed ?? 5_000,
    metrics: opts.metrics,
  };
}

/** The attempt timeout of a worker group; `long` has none (a dead worker is caught by stall detection instead). */
export function groupTimeoutMs(settings: QueueSettings, group: WorkerGroup = 'default'): number | undefined {
  if (group === 'long') return undefined;
  return group === 'controller' ? settings.controllerTimeoutMs : settings.defaultTimeoutMs;
}
