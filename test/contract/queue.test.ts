/** Runs the JobQueue contract against the memory adapter and against BullMQ on the real Redis. */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { BullmqQueue } from '../../src/kernel/queue/bullmq-queue.ts';
import { MemoryQueue } from '../../src/kernel/queue/memory-queue.ts';
import { REDIS_URL, uniqueName } from '../helpers/env.ts';
import { queueContract, type DoomedWorker } from './queue-contract.ts';
import { aborted, deferred } from './queue-helpers.ts';

const CRASH_WORKER = resolve(import.meta.dirname, '../fixtures/queue-crash-worker.ts');
const BUN = process.versions.bun ? process.execPath : resolve(import.meta.dirname, '../../node_modules/.bin/bun');

queueContract('MemoryQueue', async (settings) => {
  const queue = new MemoryQueue(settings);
  return {
    queue,
    async crashingWorker(name): Promise<DoomedWorker> {
      const started = deferred<string>();
      const worker = await queue.work(
        name,
        async (job) => {
          started.resolve(job.id);
          await aborted(job.signal);
        },
        { group: 'long' },
      );
      return { jobStarted: started.promise, crash: async () => queue.abandonWorker(worker) };
    },
    cleanup: () => queue.close(),
  };
});

queueContract('BullmqQueue', async (settings) => {
  const prefix = uniqueName('capq');
  const queue = new BullmqQueue({ url: REDIS_URL, prefix, ...settings });
  const children = new Set<ChildProcess>();
  return {
    queue,
    // The doomed worker is a separate process so that SIGKILL stops its lock renewal, as a real crash does.
    async crashingWorker(name): Promise<DoomedWorker> {
      const child = spawn(BUN, [CRASH_WORKER, REDIS_URL, prefix, name, String(settings.stalledIntervalMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.add(child);
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      const ready = deferred();
      const started = deferred<string>();
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line === 'ready') ready.resolve();
        const m = /^started (.+)$/.exec(line);
        if (m) started.resolve(m[1]!);
      });
      await Promise.race([ready.promise, exited.then(() => Promise.reject(new Error('crash worker exited before ready')))]);
      return {
        jobStarted: started.promise,
        async crash() {
          child.kill('SIGKILL');
          await exited;
          children.delete(child);
        },
      };
    },
    async cleanup() {
      for (const c of children) c.kill('SIGKILL');
      await queue.close();
      const redis = new Redis(REDIS_URL);
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
          cursor = next;
          if (keys.length) await redis.del(...keys);
        } while (cursor !== '0');
      } finally {
        await redis.quit();
      }
    },
  };
});
