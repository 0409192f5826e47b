/** The JobQueue contract: every adapter (memory, BullMQ) must pass this suite unchanged. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Conflict, Invalid, NotFound } from '../../src/kernel/errors.ts';
import type { JobHandler, JobInfo, JobQueue, JobState, QueueWorker, WorkerOptions } from '../../src/kernel/queue/port.ts';
import { uniqueName } from '../helpers/env.ts';
import { aborted, deferred, eventually, pause } from './queue-helpers.ts';

/** Short timings the suite asks the adapter to use, so that timeouts and stalls happen within a test. */
export interface QueueContractSettings {
  controllerTimeoutMs: number;
  defaultTimeoutMs: number;
  stalledIntervalMs: number;
  closeTimeoutMs: number;
}

/** A `long` worker that can be killed mid-job the way a crashed process dies. */
export interface DoomedWorker {
  /** Resolves with the id of the job the doomed worker took. */
  jobStarted: Promise<string>;
  crash(): Promise<void>;
}

/** What a factory hands the suite. */
export interface QueueContractSubject {
  queue: JobQueue;
  /** Starts a doomed `long` worker on `queue` (in another process for a real backend). */
  crashingWorker?(queue: string): Promise<DoomedWorker>;
  /** Closes the queue and deletes everything the test file created on the server. */
  cleanup(): Promise<void>;
}

const SETTINGS: QueueContractSettings = { controllerTimeoutMs: 400, defaultTimeoutMs: 1_500, stalledIntervalMs: 1_000, closeTimeoutMs: 2_000 };
// Clocks (ours, Redis's) and timers are coarse; lower bounds on delays allow this much slack.
const SLACK_MS = 30;

/** Runs the JobQueue contract against the adapter `factory` builds. */
export function queueContract(name: string, factory: (settings: QueueContractSettings) => Promise<QueueContractSubject>): void {
  describe(`JobQueue contract: ${name}`, () => {
    let subject: QueueContractSubject;
    let queue: JobQueue;
    let workers: QueueWorker[] = [];

    beforeAll(async () => {
      subject = await factory(SETTINGS);
      queue = subject.queue;
    });
    afterEach(async () => {
      await Promise.all(workers.map((w) => w.close()));
      workers = [];
    });
    afterAll(async () => {
      await subject?.cleanup();
    });

    const qname = () => uniqueName('q');
    async function start<T>(q: string, handler: JobHandler<T>, opts?: WorkerOptions): Promise<QueueWorker> {
      const w = await queue.work(q, handler, opts);
      workers.push(w);
      return w;
    }
    async function until(q: string, id: string, state: JobState, timeoutMs?: number): Promise<JobInfo> {
      return eventually(`job ${id} to be ${state}`, async () => {
        const info = await queue.getJob(q, id);
        return info?.state === state ? info : undefined;
      }, timeoutMs);
    }

    it('runs a job and keeps its return value', async () => {
      const q = qname();
      await start<{ a: number }>(q, async (job) => ({ doubled: job.data.a * 2, attempt: job.attempt, name: job.name }));
      const { id } = await queue.add(q, 'double', { a: 21 });
      const info = await until(q, id, 'completed');
      expect(info).toMatchObject({ id, name: 'double', queue: q, data: { a: 21 }, attemptsMade: 1 });
      expect(info.returnValue).toEqual({ doubled: 42, attempt: 1, name: 'double' });
      expect(info.createdAt).toBeGreaterThan(0);
      await queue.ping();
    });

    it('delays a job: delayed right after add, not started before the delay', async () => {
      const q = qname();
      let startedAt = 0;
      await start(q, async () => {
        startedAt = Date.now();
      });
      const addedAt = Date.now();
      const { id } = await queue.add(q, 'later', {}, { delayMs: 700 });
      expect((await queue.getJob(q, id))?.state).toBe('delayed');
      expect((await queue.counts(q)).delayed).toBe(1);
      await until(q, id, 'completed');
      expect(startedAt - addedAt).toBeGreaterThanOrEqual(700 - SLACK_MS);
    });

    it('runs unprioritized jobs first, then by priority (1 highest), FIFO within one priority', async () => {
      const q = qname();
      const plan: [string, number | undefined][] = [['p3', 3], ['p1a', 1], ['none', undefined], ['p2', 2], ['p1b', 1]];
      const ids: Record<string, string> = {};
      for (const [n, priority] of plan) ids[n] = (await queue.add(q, n, {}, priority === undefined ? {} : { priority })).id;
      expect((await queue.getJob(q, ids.none!))?.state).toBe('waiting');
      expect((await queue.getJob(q, ids.p1a!))?.state).toBe('prioritized');
      const order: string[] = [];
      await start(q, async (job) => void order.push(job.name), { concurrency: 1 });
      await until(q, ids.p3!, 'completed');
      expect(order).toEqual(['none', 'p1a', 'p1b', 'p2', 'p3']);
    });

    it('retries with exponential backoff and then succeeds', async () => {
      const q = qname();
      const seen: { attempt: number; at: number }[] = [];
      await start(q, async (job) => {
        seen.push({ attempt: job.attempt, at: Date.now() });
        if (job.attempt < 3) throw new Error(`flaky ${job.attempt}`);
        return 'third time';
      });
      const { id } = await queue.add(q, 'flaky', {}, { attempts: 3, backoff: { type: 'exponential', delayMs: 150 } });
      const info = await until(q, id, 'completed');
      expect(info.attemptsMade).toBe(3);
      expect(info.returnValue).toBe('third time');
      expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
      // 150 ms after the first failure, 300 ms after the second.
      expect(seen[1]!.at - seen[0]!.at).toBeGreaterThanOrEqual(150 - SLACK_MS);
      expect(seen[2]!.at - seen[1]!.at).toBeGreaterThanOrEqual(300 - SLACK_MS);
    });

    it('fails a job after its last attempt, lists it, and retry() runs it again', async () => {
      const q = qname();
      let healed = false;
      await start<{ n: number }>(q, async (job) => {
        if (!healed) throw new Error(`boom ${job.data.n}`);
        return `healed ${job.data.n}`;
      });
      const a = await queue.add(q, 'fragile', { n: 1 }, { attempts: 2, backoff: { type: 'fixed', delayMs: 50 } });
      const failedA = await until(q, a.id, 'failed');
      expect(failedA).toMatchObject({ attemptsMade: 2, failedReason: 'boom 1' });
      const b = await queue.add(q, 'fragile', { n: 2 });
      await until(q, b.id, 'failed');

      const failed = await queue.listFailed(q);
      expect(failed.map((f) => f.id)).toEqual([b.id, a.id]);
      expect(failed[1]).toMatchObject({ state: 'failed', failedReason: 'boom 1', data: { n: 1 } });
      expect((await queue.listFailed(q, { offset: 1, limit: 1 })).map((f) => f.id)).toEqual([a.id]);
      expect((await queue.counts(q)).failed).toBe(2);

      healed = true;
      await queue.retry(q, a.id);
      const done = await until(q, a.id, 'completed');
      expect(done.returnValue).toBe('healed 1');
      expect(done.attemptsMade).toBe(1);
      expect((await queue.listFailed(q)).map((f) => f.id)).toEqual([b.id]);
      await expect(queue.retry(q, a.id)).rejects.toBeInstanceOf(Conflict);
    });

    it('removes waiting, delayed and finished jobs but not active ones', async () => {
      const q = qname();
      const waiting = await queue.add(q, 'w', {});
      const delayed = await queue.add(q, 'd', {}, { delayMs: 60_000 });
      await queue.remove(q, waiting.id);
      await queue.remove(q, delayed.id);
      expect(await queue.getJob(q, waiting.id)).toBeUndefined();
      expect(await queue.getJob(q, delayed.id)).toBeUndefined();
      expect(await queue.counts(q)).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 });
      await expect(queue.remove(q, waiting.id)).rejects.toBeInstanceOf(NotFound);

      const gate = deferred();
      await start(q, () => gate.promise);
      const busy = await queue.add(q, 'busy', {});
      await until(q, busy.id, 'active');
      await expect(queue.remove(q, busy.id)).rejects.toBeInstanceOf(Conflict);
      gate.resolve();
      await until(q, busy.id, 'completed');
      await queue.remove(q, busy.id);
      expect(await queue.getJob(q, busy.id)).toBeUndefined();
    });

    it('deduplicates by jobId, also once the job has completed', async () => {
      const q = qname();
      const first = await queue.add(q, 'once', { v: 1 }, { jobId: 'order-42' });
      const second = await queue.add(q, 'once', { v: 2 }, { jobId: 'order-42' });
      expect(first.id).toBe('order-42');
      expect(second.id).toBe(first.id);
      expect((await queue.counts(q)).waiting).toBe(1);
      const runs: unknown[] = [];
      await start(q, async (job) => void runs.push(job.data));
      await until(q, first.id, 'completed');
      const third = await queue.add(q, 'once', { v: 3 }, { jobId: 'order-42' });
      expect(third.id).toBe(first.id);
      expect(await queue.counts(q)).toMatchObject({ waiting: 0, delayed: 0, active: 0, completed: 1 });
      expect(runs).toEqual([{ v: 1 }]);
    });

    it('adds jobs in bulk', async () => {
      const q = qname();
      const added = await queue.addBulk(q, [
        { name: 'a', data: { n: 1 } },
        { name: 'b', data: { n: 2 }, opts: { priority: 1 } },
        { name: 'c', data: { n: 3 }, opts: { jobId: 'bulk-c' } },
      ]);
      expect(added).toHaveLength(3);
      expect(new Set(added.map((a) => a.id)).size).toBe(3);
      expect(added[2]!.id).toBe('bulk-c');
      await start<{ n: number }>(q, async (job) => `${job.name}${job.data.n}`);
      const results = await Promise.all(added.map(({ id }) => until(q, id, 'completed')));
      expect(results.map((r) => r.returnValue)).toEqual(['a1', 'b2', 'c3']);
    });

    it('runs up to `concurrency` jobs at once', async () => {
      const q = qname();
      let active = 0;
      let max = 0;
      const gate = deferred();
      await start(
        q,
        async () => {
          active++;
          max = Math.max(max, active);
          await gate.promise;
          active--;
        },
        { concurrency: 3 },
      );
      const added = await queue.addBulk(q, Array.from({ length: 7 }, (_, i) => ({ name: 'par', data: { i } })));
      await eventually('3 active handlers', () => active === 3);
      expect((await queue.counts(q)).active).toBe(3);
      await pause(300); // room for a fourth job to start, which must not happen
      expect(active).toBe(3);
      gate.resolve();
      await Promise.all(added.map(({ id }) => until(q, id, 'completed')));
      expect(max).toBe(3);
    });

    it('shows progress while the job is active', async () => {
      const q = qname();
      const step1 = deferred();
      const step2 = deferred();
      await start(q, async (job) => {
        await job.progress(42);
        await step1.promise;
        await job.progress({ phase: 'copy', done: 3 });
        await step2.promise;
      });
      const { id } = await queue.add(q, 'steps', {});
      await eventually('progress 42', async () => {
        const info = await queue.getJob(q, id);
        return info?.state === 'active' && info.progress === 42;
      });
      step1.resolve();
      await eventually('object progress', async () => {
        const info = await queue.getJob(q, id);
        return info?.state === 'active' && JSON.stringify(info.progress) === JSON.stringify({ phase: 'copy', done: 3 });
      });
      step2.resolve();
      expect((await until(q, id, 'completed')).progress).toEqual({ phase: 'copy', done: 3 });
    });

    it('controller group: aborts the signal at the timeout and retries, then fails the job', async () => {
      const q = qname();
      const seen: { attempt: number; abortedAfter: number; reason: unknown }[] = [];
      await start(
        q,
        async (job) => {
          const t0 = Date.now();
          const reason = await aborted(job.signal);
          seen.push({ attempt: job.attempt, abortedAfter: Date.now() - t0, reason });
          throw reason;
        },
        { group: 'controller' },
      );
      const { id } = await queue.add(q, 'slow', {}, { attempts: 2 });
      const info = await until(q, id, 'failed');
      expect(info.failedReason).toMatch(/timed out/);
      expect(info.attemptsMade).toBe(2);
      expect(seen.map((s) => s.attempt)).toEqual([1, 2]);
      for (const s of seen) expect(s.abortedAfter).toBeGreaterThanOrEqual(SETTINGS.controllerTimeoutMs - SLACK_MS);
      expect(String((seen[0]!.reason as Error).message)).toMatch(/timed out/);
    });

    it('default group outlives the controller timeout but has its own; long group has none', async () => {
      const qd = qname();
      const ql = qname();
      await start<{ ms: number }>(
        qd,
        async (job) => {
          if (job.data.ms < 0) throw await aborted(job.signal);
          await pause(job.data.ms);
          return 'medium done';
        },
        { group: 'default', concurrency: 2 },
      );
      let longAborted = false;
      await start(
        ql,
        async (job) => {
          await pause(SETTINGS.defaultTimeoutMs + 500);
          longAborted = job.signal.aborted;
          return 'long done';
        },
        { group: 'long' },
      );
      const medium = await queue.add(qd, 'medium', { ms: SETTINGS.controllerTimeoutMs + 300 });
      const hang = await queue.add(qd, 'hang', { ms: -1 });
      const long = await queue.add(ql, 'long', {});
      expect((await until(qd, medium.id, 'completed')).returnValue).toBe('medium done');
      expect((await until(qd, hang.id, 'failed')).failedReason).toMatch(/timed out/);
      expect((await until(ql, long.id, 'completed')).returnValue).toBe('long done');
      expect(longAborted).toBe(false);
    });

    it('long group: a crashed worker\'s job is picked up by another worker and completes', async (ctx) => {
      if (!subject.crashingWorker) return ctx.skip();
      const q = qname();
      const doomed = await subject.crashingWorker(q);
      const { id } = await queue.add(q, 'survivor', { x: 1 }, { attempts: 1 });
      expect(await doomed.jobStarted).toBe(id);
      await doomed.crash();
      expect((await queue.getJob(q, id))?.state).toBe('active');
      const ran: string[] = [];
      await start(
        q,
        async (job) => {
          ran.push(job.id);
          return 'recovered';
        },
        { group: 'long' },
      );
      const info = await until(q, id, 'completed', 20_000);
      expect(info.returnValue).toBe('recovered');
      expect(ran).toEqual([id]);
    });

    it('closing a worker lets an active job finish within the grace period', async () => {
      const q = qname();
      const started = deferred();
      const first = await start(q, async (job) => {
        started.resolve();
        await pause(300);
        return job.signal.aborted ? 'aborted' : 'finished';
      });
      const { id } = await queue.add(q, 'finish-me', {});
      await started.promise;
      await first.close();
      expect(await queue.getJob(q, id)).toMatchObject({ state: 'completed', returnValue: 'finished' });
    });

    it('closing a worker asks a job still running after the grace period to stop and hands it back without spending an attempt', async () => {
      const q = qname();
      const started = deferred();
      // The long group has no timeout, so only the close grace period ends this attempt.
      const first = await start(
        q,
        async (job) => {
          started.resolve();
          throw await aborted(job.signal);
        },
        { group: 'long' },
      );
      const { id } = await queue.add(q, 'handover', {}, { attempts: 1 });
      await started.promise;
      await first.close();
      expect(await queue.getJob(q, id)).toMatchObject({ state: 'waiting', attemptsMade: 0 });
      await start(q, async (job) => `second took attempt ${job.attempt}`);
      expect((await until(q, id, 'completed')).returnValue).toBe('second took attempt 1');
    });

    it('counts jobs per state and knows its queues', async () => {
      const q = qname();
      const other = qname();
      await queue.add(q, 'a', {});
      await queue.add(q, 'b', {}, { priority: 5 });
      await queue.add(q, 'c', {}, { delayMs: 60_000 });
      expect(await queue.counts(q)).toEqual({ waiting: 2, delayed: 1, active: 0, completed: 0, failed: 0 });
      await start(other, async () => undefined);
      expect(queue.knownQueues()).toEqual(expect.arrayContaining([q, other]));
      expect(await queue.counts(qname())).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 });
    });

    it('rejects bad input with typed errors and adds nothing', async () => {
      const q = qname();
      await expect(queue.retry(q, 'no-such-job')).rejects.toBeInstanceOf(NotFound);
      await expect(queue.remove(q, 'no-such-job')).rejects.toBeInstanceOf(NotFound);
      expect(await queue.getJob(q, 'no-such-job')).toBeUndefined();
      await expect(queue.add('bad:name', 'x', {})).rejects.toBeInstanceOf(Invalid);
      await expect(queue.add('', 'x', {})).rejects.toBeInstanceOf(Invalid);
      await expect(queue.add(q, '', {})).rejects.toBeInstanceOf(Invalid);
      await expect(queue.add(q, 'x', {}, { attempts: 0 })).rejects.toBeInstanceOf(Invalid);
      await expect(queue.add(q, 'x', {}, { delayMs: -5 })).rejects.toBeInstanceOf(Invalid);
      await expect(queue.add(q, 'x', {}, { jobId: '123' })).rejects.toBeInstanceOf(Invalid);
      await expect(queue.work(q, async () => undefined, { concurrency: 0 })).rejects.toBeInstanceOf(Invalid);
      const bulk = queue.addBulk(q, [{ name: 'ok', data: {} }, { name: 'bad', data: {}, opts: { priority: -1 } }]);
      await expect(bulk).rejects.toMatchObject({ code: 'Invalid', issues: [expect.objectContaining({ path: 'jobs.1.opts.priority' })] });
      expect(await queue.counts(q)).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 });
    });
  });
}
