/** /api/v1/queues: queue depths, job inspection, and failed-job admin (list, retry, remove); admin scope. */
import { z } from '@hono/zod-openapi';
import { NotFound } from '../errors.ts';
import type { JobQueue } from '../queue/port.ts';
import { requireAnyScope } from './auth.ts';
import { defineRoute } from './route.ts';
import { createRouter } from './router.ts';

const queueName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'queue: letters, digits, _ . - (max 100)');
const jobId = z.string().min(1).max(200);
const params = z.object({ queue: queueName });
const jobParams = z.object({ queue: queueName, id: jobId });
const addBody = z
  .strictObject({
    name: z.string().min(1).max(200),
    data: z.unknown().optional(),
    delayMs: z.number().int().min(0).optional(),
    priority: z.number().int().min(1).max(2_097_152).optional(),
    attempts: z.number().int().min(1).max(100).optional(),
    jobId: jobId.optional(),
  })
  .openapi('AddJob');
const jobInfo = z.object({ id: z.string(), name: z.string(), queue: z.string(), state: z.string(), attemptsMade: z.number() }).passthrough().openapi('JobInfo');

/** Admin routes over the job queue. */
export function queueRoutes(queue: JobQueue) {
  const app = createRouter('queues');
  app.use('*', requireAnyScope('admin'));

  app.openapi(
    defineRoute({
      method: 'get',
      path: '/',
      operationId: 'listQueues',
      summary: 'Every known queue with its job counts by state',
      responses: { 200: { description: 'the queues', content: { 'application/json': { schema: z.object({ queues: z.array(z.object({ name: z.string(), counts: z.record(z.string(), z.number()) })) }) } } } },
    }),
    async (c) => {
      const names = queue.knownQueues().sort();
      const rows = await Promise.all(names.map(async (name) => ({ name, counts: await queue.counts(name) })));
      return c.json({ queues: rows }, 200);
    },
  );

  app.openapi(
    defineRoute({
      method: 'post',
      path: '/{queue}/jobs',
      operationId: 'addJob',
      summary: 'Add a job (idempotent by jobId)',
      request: { params, body: { content: { 'application/json': { schema: addBody } }, required: true } },
      responses: { 201: { description: 'added (or the existing job for a repeated jobId)', content: { 'application/json': { schema: z.object({ id: z.string() }) } } } },
    }),
    async (c) => {
      const { queue: q } = c.req.valid('param');
      const b = c.req.valid('json');
      const added = await queue.add(q, b.name, b.data ?? null, { delayMs: b.delayMs, priority: b.priority, attempts: b.attempts, jobId: b.jobId });
      return c.json(added, 201);
    },
  );

  app.openapi(
    defineRoute({ method: 'get', path: '/{queue}/jobs/{id}', operationId: 'getJob', summary: 'One job', errors: [404], request: { params: jobParams }, responses: { 200: { description: 'the job', content: { 'application/json': { schema: jobInfo } } } } }),
    async (c) => {
      const { queue: q, id } = c.req.valid('param');
      const job = await queue.getJob(q, id);
      if (!job) throw new NotFound(`job '${id}' in queue '${q}'`);
      return c.json(job, 200);
    },
  );

  app.openapi(
    defineRoute({
      method: 'get',
      path: '/{queue}/failed',
      operationId: 'listFailedJobs',
      summary: 'Failed jobs, newest first',
      request: { params, query: z.object({ offset: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(500).default(50) }) },
      responses: { 200: { description: 'failed jobs, newest first', content: { 'application/json': { schema: z.object({ jobs: z.array(jobInfo) }) } } } },
    }),
    async (c) => {
      const { queue: q } = c.req.valid('param');
      const { offset, limit } = c.req.valid('query');
      return c.json({ jobs: await queue.listFailed(q, { offset, limit }) }, 200);
    },
  );

  app.openapi(
    defineRoute({ method: 'post', path: '/{queue}/jobs/{id}/retry', operationId: 'retryJob', summary: 'Move a failed job back to waiting', errors: [404], request: { params: jobParams }, responses: { 202: { description: 'moved back to waiting' } } }),
    async (c) => {
      const { queue: q, id } = c.req.valid('param');
      await queue.retry(q, id);
      return c.body(null, 202);
    },
  );

  app.openapi(
    defineRoute({ method: 'delete', path: '/{queue}/jobs/{id}', operationId: 'removeJob', summary: 'Remove a job', errors: [404], request: { params: jobParams }, responses: { 204: { description: 'removed' } } }),
    async (c) => {
      const { queue: q, id } = c.req.valid('param');
      await queue.remove(q, id);
      return c.body(null, 204);
    },
  );
  return app;
}
