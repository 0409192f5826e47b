/** The data behind the console's overview: process, dependency health and queue depths, also served as JSON for live refresh. */
import { readiness, type DependencyStatus } from '../http/health-routes.ts';
import type { QueueCounts } from '../queue/port.ts';
import type { Resources } from '../resources.ts';

/** One queue's row: its counts, or the error reading them. */
export type QueueRow = { name: string } & Partial<QueueCounts> & { error?: string };

/** What the overview shows. */
export interface OverviewData {
  /** The process answering this request is up (it rendered the page); who it is and for how long. */
  process: { up: true; instanceId: string; mode: string; uptimeSeconds: number };
  ready: boolean;
  dependencies: Record<string, DependencyStatus>;
  /** Null when the caller may not see queues (the queue API needs the admin scope too). */
  queues: QueueRow[] | null;
}

/** Reads health and, if `withQueues`, queue counts now. */
export async function overviewData(r: Resources, withQueues: boolean): Promise<OverviewData> {
  const [health, queues] = await Promise.all([readiness(r), withQueues ? queueRows(r) : Promise.resolve(null)]);
  return {
    process: { up: true, instanceId: r.instanceId, mode: r.mode, uptimeSeconds: Math.round(process.uptime()) },
    ready: health.ready,
    dependencies: health.dependencies,
    queues,
  };
}

async function queueRows(r: Resources): Promise<QueueRow[]> {
  return Promise.all(
    [...r.queue.knownQueues()].sort().map(async (name) => {
      try {
        return { name, ...(await r.queue.counts(name)) };
      } catch (err) {
        // One unreadable queue must not hide the others.
        return { name, error: (err as Error).message };
      }
    }),
  );
}
