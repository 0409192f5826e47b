/** A role held by exactly one instance through a kernel lease: work runs while held and stops the moment the lease is lost. */
import { sleep, type LeaseHolder, type Leases, type Logger } from '../../kernel/index.ts';

/** Keeps trying to hold `role`; while held, runs `work(signal)` (which should return when `signal` aborts). */
export function holdRole(leases: Leases, role: string, ttlMs: number, log: Logger, work: (signal: AbortSignal) => Promise<void>): { stop(): Promise<void> } {
  const stopping = new AbortController();
  let holder: LeaseHolder | undefined;
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        holder = await leases.acquire(role, { ttlMs });
      } catch (err) {
        log.warn({ err, role }, 'cannot reach the lease store; retrying');
        holder = undefined;
      }
      if (!holder) {
        // Someone else holds it: try again well within its TTL so a dead holder is replaced quickly.
        await Promise.race([sleep(Math.max(100, ttlMs / 5)), new Promise((r) => stopping.signal.addEventListener('abort', r, { once: true }))]);
        continue;
      }
      const both = AbortSignal.any([holder.lost, stopping.signal]);
      try {
        await work(both);
      } catch (err) {
        log.warn({ err, role }, 'role work failed');
        await sleep(500);
      }
      await holder.release().catch(() => {});
      holder = undefined;
    }
  })();
  return {
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}

/** Resolves when `signal` aborts. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return signal.aborted ? Promise.resolve() : new Promise((r) => signal.addEventListener('abort', () => r(), { once: true }));
}
