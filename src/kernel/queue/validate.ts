/** Checks queue names, job names and job options the same way in both adapters, so bad input fails alike. */
import * as z from 'zod';
import { Invalid } from '../errors.ts';
import { zodIssues } from '../validation.ts';
import type { JobOptions, WorkerOptions } from './port.ts';

// BullMQ uses ':' as its key separator and rejects integer-looking custom ids (they clash with its counters).
const queueName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'letters, digits, . _ - (max 100), starting with a letter or digit');
const jobName = z.string().min(1).max(200);
const jobId = z
  .string()
  .min(1)
  .max(200)
  .refine((s) => !s.includes(':'), 'must not contain ":"')
  .refine((s) => !/^\d+$/.test(s), 'must not be an integer');

const jobOptions = z.strictObject({
  delayMs: z.number().int().min(0).optional(),
  priority: z.number().int().min(1).max(2_097_152).optional(),
  attempts: z.number().int().min(1).max(10_000).optional(),
  backoff: z.strictObject({ type: z.enum(['exponential', 'fixed']), delayMs: z.number().int().min(0) }).optional(),
  jobId: jobId.optional(),
  traceparent: z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, 'must be a W3C traceparent').optional(),
});

const workerOptions = z.strictObject({
  concurrency: z.number().int().min(1).max(10_000).optional(),
  group: z.enum(['controller', 'long', 'default']).optional(),
});

/** Job options after validation, with the default of one attempt applied. */
export interface NormalizedJobOptions {
  delayMs: number;
  priority?: number;
  attempts: number;
  backoff?: { type: 'exponential' | 'fixed'; delayMs: number };
  jobId?: string;
  traceparent?: string;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, path: string, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new Invalid(`invalid ${what}`, zodIssues(r.error, path));
  return r.data;
}

/** Throws Invalid unless `queue` is a usable queue name. */
export function validateQueueName(queue: string): void {
  parse(queueName, queue, 'queue', 'queue name');
}

/** Validates one job's name and options; `path` names the job in issues (e.g. `jobs.2`). */
export function normalizeJob(name: string, opts: JobOptions | undefined, path = ''): NormalizedJobOptions {
  parse(jobName, name, path ? `${path}.name` : 'name', 'job name');
  const o = parse(jobOptions, opts ?? {}, path ? `${path}.opts` : 'opts', 'job options');
  return { delayMs: o.delayMs ?? 0, priority: o.priority, attempts: o.attempts ?? 1, backoff: o.backoff, jobId: o.jobId, traceparent: o.traceparent };
}

/** Validates a queue name and a bulk of jobs before anything is added; returns each job with its normalized options. */
export function normalizeBulk<J extends { name: string; opts?: JobOptions }>(queue: string, jobs: J[]): (J & { normalized: NormalizedJobOptions })[] {
  validateQueueName(queue);
  if (!Array.isArray(jobs)) throw new Invalid('jobs must be an array', [{ path: 'jobs', message: 'expected an array' }]);
  return jobs.map((j, i) => ({ ...j, normalized: normalizeJob(j.name, j.opts, `jobs.${i}`) }));
}

/** Validates worker options and fills in concurrency 1 and group `default`. */
export function normalizeWorker(opts: WorkerOptions | undefined): Required<WorkerOptions> {
  const o = parse(workerOptions, opts ?? {}, 'opts', 'worker options');
  return { concurrency: o.concurrency ?? 1, group: o.group ?? 'default' };
}

/** Delay before the next attempt after `attemptsMade` attempts failed: fixed, or `delayMs * 2^(attemptsMade-1)`. */
export function backoffDelayMs(backoff: NormalizedJobOptions['backoff'], attemptsMade: number): number {
  if (!backoff) return 0;
  return backoff.type === 'fixed' ? backoff.delayMs : Math.round(backoff.delayMs * 2 ** (attemptsMade - 1));
}
