/** The data behind the console's overview: dependency health and queue depths, also served as JSON for live refresh. */
import { readiness, type DependencyStatus } from '../http/health-routes.ts';
import type { QueueCounts } from '../queue/port.ts';
import type { Resources } from '../resources.ts';

/** What the overview shows. */
export interface OverviewData {
  ready: boolean;
  dependencies: Record<string, DependencyStatus>;
  queues: ({ name: string } & Partial<QueueCounts> & { error?: string })[];
}

/** Reads health and queue counts now. */
export async function overviewData(r: Resources): Promise<OverviewData> {
  const health = await readiness(r);
  const queues = await Promise.all(
    r.queue
      .knownQueues()
      .sort()
      .map(async (name) => {
        try {
          return { name, ...(await r.queue.counts(name)) };
        } catch (err) {
          return { name, error: (err as Error).message };
        }
      }),
  );
  return { ready: health.ready, dependencies: health.dependencies, queues };
}
