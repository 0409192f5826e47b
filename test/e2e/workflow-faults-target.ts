/** The remote side of the workflow fault tests' http steps: counts calls per (run, status) and answers the next status after a short delay. */

/** A running step target. */
export interface StepTarget {
  url: string;
  /** Calls per `${runId}:${status}`. */
  calls: Map<string, number>;
  /** Calls whose caller hung up before the answer: a step interrupted by a kill. */
  interrupted(): number;
  /** Resolves when the next call arrives (so a kill can be aimed at a step in flight). */
  nextCall(): Promise<void>;
  /** Calls beyond the first per (run, status), and all calls. */
  duplicates(): { extra: number; total: number; rate: number };
  stop(): void;
}

/** Starts the target on a free loopback port; `next` maps each status to the one its step answers. */
export function startStepTarget(next: Record<string, string>, delayMs: { min: number; max: number }): StepTarget {
  const calls = new Map<string, number>();
  let interrupted = 0;
  let waiters: (() => void)[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const body = (await req.json().catch(() => ({}))) as { runId?: string; status?: string };
      const to = body.status === undefined ? undefined : next[body.status];
      if (!body.runId || !to) return new Response('unknown run or status', { status: 400 });
      const key = `${body.runId}:${body.status}`;
      calls.set(key, (calls.get(key) ?? 0) + 1);
      for (const w of waiters.splice(0)) w();
      // The delay keeps each step in flight long enough for a SIGKILL to land in the middle of it.
      const onAbort = () => interrupted++;
      req.signal.addEventListener('abort', onAbort, { once: true });
      await Bun.sleep(delayMs.min + Math.random() * (delayMs.max - delayMs.min));
      req.signal.removeEventListener('abort', onAbort);
      return Response.json({ status: to });
    },
  });
  waiters = [];
  return {
    url: `http://127.0.0.1:${server.port}/step`,
    calls,
    interrupted: () => interrupted,
    nextCall: () => new Promise<void>((r) => waiters.push(r)),
    duplicates() {
      let total = 0;
      let extra = 0;
      for (const n of calls.values()) {
        total += n;
        extra += n - 1;
      }
      return { extra, total, rate: total === 0 ? 0 : extra / total };
    },
    stop: () => void server.stop(true),
  };
}
