/** A built-in worker on the `capstan-diagnostics` queue: a `ping` job proves which instance's workers take jobs. */
import type { EventBus } from './bus/port.ts';
import type { JobQueue, QueueWorker } from './queue/port.ts';

/** The diagnostics queue's name. */
export const DIAGNOSTICS_QUEUE = 'capstan-diagnostics';

/** Starts the worker; each `ping` returns and publishes `kernel.diagnostics.pong` with this instance's id. */
export async function startDiagnosticsWorker(queue: JobQueue, bus: EventBus, instanceId: string): Promise<QueueWorker> {
  return queue.work(
    DIAGNOSTICS_QUEUE,
    async (job) => {
      if (job.name !== 'ping') throw new Error(`unknown diagnostics job '${job.name}'`);
      const result = { jobId: job.id, instanceId, at: new Date().toISOString() };
      await bus.publish('kernel.diagnostics.pong', result, { source: instanceId });
      return result;
    },
    { group: 'controller', concurrency: 4 },
  );
}
