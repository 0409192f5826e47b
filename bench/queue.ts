/** Queue benchmark: jobs/s from first add to last completion through the kernel's BullmqQueue against raw BullMQ. */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { BullmqQueue } from '../src/kernel/queue/bullmq-queue.ts';
import { queueSettings } from '../src/kernel/queue/options.ts';
import { REDIS_URL, uniqueName } from '../test/helpers/env.ts';
import { Countdown } from './lib/pipeline.ts';
import { alternate } from './lib/rounds.ts';
import { progress, type BenchRow } from './lib/row.ts';
import { formatNumber, formatPairedRatios, formatRounds, median } from './lib/stats.ts';

/** Sizes of one queue run. */
export interface QueueBenchOptions {
  /** Jobs per measured round, added with one addBulk call. */
  jobs: number;
  /** Jobs in the warm-up run of each side. */
  warmup: number;
  rounds: number;
  /** Worker concurrency on both sides. */
  concurrency: number;
}

const DEFAULTS: QueueBenchOptions = { jobs: 10_000, warmup: 2_000, rounds: 7, concurrency: 50 };
const TIMEOUT_MS = 60_000;

/** How this benchmark measures, for RESULTS.md. */
export const QUEUE_METHOD = [
  `jobs/s from the addBulk call to the last completed event: one addBulk of ${DEFAULTS.jobs.toLocaleString('en-US')} no-op jobs into a fresh queue whose worker (concurrency ${DEFAULTS.concurrency}) is already running; ${DEFAULTS.rounds} rounds after a ${DEFAULTS.warmup.toLocaleString('en-US')}-job warm-up; the worker is closed after each round; all queues are obliterated and the prefixes scanned clean afterwards.`,
  'kernel: BullmqQueue.addBulk + work (job validation, UUIDv7 job ids, group timeout per attempt, completions counted by its metrics hook on the worker\'s completed event).',
  'baseline: raw BullMQ Queue.addBulk + Worker with the same connection options (ioredis with maxRetriesPerRequest 3 for the producer, null for the worker), the same retention (removeOnComplete 1000, removeOnFail 5000) and BullMQ\'s own counter job ids.',
];

/** One side: a fresh queue name per call; resolves to jobs/s from the addBulk call to the last completion. */
type Side = (n: number) => Promise<number>;

/** CPU microseconds this process spent per job in each measured call (producer and worker share the process; Redis not included). */
const cpuPerJob: Record<'kernel' | 'raw', number[]> = { kernel: [], raw: [] };

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

let queueSeq = 0;
const nextQueue = () => `q${++queueSeq}`;

/** The kernel adapter; completions are counted through its metrics hook (fired on BullMQ's 'completed' event). */
function kernelSide(prefix: string, concurrency: number, used: string[]): { side: Side; close(): Promise<void> } {
  let current: Countdown | undefined;
  const q = new BullmqQueue({ url: REDIS_URL, prefix, metrics: { completed: () => current?.hit(), failed: () => {} } });
  const side: Side = async (n) => {
    const name = nextQueue();
    used.push(name);
    const done = (current = new Countdown(n, TIMEOUT_MS, 'completions (kernel)'));
    const worker = await q.work(name, async () => {}, { concurrency });
    try {
      const jobs = Array.from({ length: n }, (_, i) => ({ name: 'noop', data: { i } }));
      const cpu = cpuUs();
      const started = performance.now();
      await q.addBulk(name, jobs);
      const rate = n / (((await done.done) - started) / 1000);
      cpuPerJob.kernel.push((cpuUs() - cpu) / n);
      return rate;
    } finally {
      await worker.close();
    }
  };
  return { side, close: () => q.close() };
}

/** Raw BullMQ with the adapter's connection options (producer: 3 retries per request; workers: null) and retention. */
function rawSide(prefix: string, concurrency: number, used: string[]): { side: Side; close(): Promise<void> } {
  const s = queueSettings();
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  const workerConn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const side: Side = async (n) => {
    const name = nextQueue();
    used.push(name);
    const done = new Countdown(n, TIMEOUT_MS, 'completions (raw)');
    const queue = new Queue(name, { connection: conn, prefix });
    const worker = new Worker(name, async () => {}, { connection: workerConn, prefix, concurrency });
    worker.on('completed', () => done.hit());
    await worker.waitUntilReady();
    try {
      const opts = { removeOnComplete: { count: s.keepCompleted }, removeOnFail: { count: s.keepFailed } };
      const jobs = Array.from({ length: n }, (_, i) => ({ name: 'noop', data: { i }, opts }));
      const cpu = cpuUs();
      const started = performance.now();
      await queue.addBulk(jobs);
      const rate = n / (((await done.done) - started) / 1000);
      cpuPerJob.raw.push((cpuUs() - cpu) / n);
      return rate;
    } finally {
      await worker.close();
      await queue.close();
    }
  };
  return {
    side,
    async close() {
      await conn.quit();
      await workerConn.quit();
    },
  };
}

/** Obliterates every queue used, then deletes any key left under the prefixes. */
async function cleanup(queues: { prefix: string; names: string[] }[]): Promise<void> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  try {
    for (const { prefix, names } of queues) {
      for (const name of names) {
        const q = new Queue(name, { connection: redis, prefix });
        await q.obliterate({ force: true }).catch((err: Error) => progress('queue', `obliterate ${prefix}:${name}: ${err.message}`));
        await q.close();
      }
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    await redis.quit();
  }
}

/** Runs the queue benchmark and returns its rows. */
export async function runQueue(opts: Partial<QueueBenchOptions> = {}): Promise<BenchRow[]> {
  const o = { ...DEFAULTS, ...opts };
  const kernelPrefix = uniqueName('benchq');
  const rawPrefix = `${kernelPrefix}_raw`;
  const kernelQueues: string[] = [];
  const rawQueues: string[] = [];
  const kernel = kernelSide(kernelPrefix, o.concurrency, kernelQueues);
  const raw = rawSide(rawPrefix, o.concurrency, rawQueues);
  try {
    progress('queue', `warm-up: ${o.warmup} jobs each`);
    await kernel.side(o.warmup);
    await raw.side(o.warmup);
    cpuPerJob.kernel = [];
    cpuPerJob.raw = [];
    const r = await alternate(o.rounds, { kernel: () => kernel.side(o.jobs), baseline: () => raw.side(o.jobs) }, (round, f) =>
      progress('queue', `round ${round}/${o.rounds}: BullmqQueue ${formatNumber(f.kernel)} jobs/s, raw BullMQ ${formatNumber(f.baseline)} jobs/s`),
    );
    return [
      {
        group: 'queue',
        name: `BullmqQueue addBulk→completed (concurrency ${o.concurrency})`,
        unit: 'jobs/s',
        kernel: median(r.kernel),
        baseline: median(r.baseline),
        goalRatio: 0.8,
        detail: `${o.jobs.toLocaleString('en-US')} no-op jobs/round; BullmqQueue ${formatRounds(r.kernel)}; raw BullMQ ${formatRounds(r.baseline)}; per-round ratios ${formatPairedRatios(r.kernel, r.baseline)}; CPU of this process per job (median): BullmqQueue ${formatNumber(median(cpuPerJob.kernel))} µs, raw ${formatNumber(median(cpuPerJob.raw))} µs`,
      },
    ];
  } finally {
    await kernel.close();
    await raw.close();
    await cleanup([
      { prefix: kernelPrefix, names: kernelQueues },
      { prefix: rawPrefix, names: rawQueues },
    ]);
  }
}

if (import.meta.main) {
  const { printTable } = await import('./lib/table.ts');
  printTable(await runQueue());
  process.exit(0);
}
