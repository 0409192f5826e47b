/** /api/v1/leases: acquire, inspect and release named leases held by this instance (admin scope); used by operators and the e2e proof. */
import { z } from '@hono/zod-openapi';
import { Conflict, NotFound } from '../errors.ts';
import type { LeaseHolder, Leases } from '../kv/port.ts';
import { requireAnyScope } from './auth.ts';
import { defineRoute } from './route.ts';
import { createRouter } from './router.ts';

const params = z.object({ name: z.string().regex(/^[A-Za-z0-9][-_A-Za-z0-9]{0,127}$/, 'name: letters, digits, - and _') });
const ttlQuery = z.object({ ttlMs: z.coerce.number().int().min(500).max(3_600_000).optional() });
const held = z.object({ name: z.string(), owner: z.string(), token: z.number(), ttlMs: z.number() }).openapi('Lease');

/** Lease routes; leases acquired here are renewed by this instance until released or lost. */
export function leaseRoutes(leases: Leases, defaultTtlMs: number) {
  const app = createRouter('leases');
  const mine = new Map<string, { holder: LeaseHolder; ttlMs: number }>();
  app.use('*', requireAnyScope('admin'));

  app.openapi(
    defineRoute({
      method: 'post',
      path: '/{name}',
      operationId: 'acquireLease',
      summary: 'Acquire a lease for this instance (renewed until released or lost)',
      errors: [409],
      request: { params, body: { content: { 'application/json': { schema: z.strictObject({ ttlMs: z.number().int().min(500).max(3_600_000).optional() }) } }, required: false } },
      responses: { 201: { description: 'acquired', content: { 'application/json': { schema: held } } } },
    }),
    async (c) => {
      const { name } = c.req.valid('param');
      const ttlMs = (c.req.header('content-type')?.includes('json') ? c.req.valid('json').ttlMs : undefined) ?? defaultTtlMs;
      const current = mine.get(name);
      if (current && !current.holder.lost.aborted) return c.json({ name, owner: current.holder.owner, token: current.holder.token, ttlMs: current.ttlMs }, 201);
      const holder = await leases.acquire(name, { ttlMs });
      if (!holder) {
        const info = await leases.holder(name, ttlMs);
        throw new Conflict(`lease '${name}' is held by ${info?.owner ?? 'another instance'}`, { holder: info });
      }
      mine.set(name, { holder, ttlMs });
      holder.lost.addEventListener('abort', () => mine.get(name)?.holder === holder && mine.delete(name));
      return c.json({ name, owner: holder.owner, token: holder.token, ttlMs }, 201);
    },
  );

  app.openapi(
    defineRoute({ method: 'get', path: '/{name}', operationId: 'getLease', summary: 'The current holder of a lease', errors: [404], request: { params, query: ttlQuery }, responses: { 200: { description: 'current holder', content: { 'application/json': { schema: z.object({ name: z.string(), owner: z.string(), token: z.number() }).passthrough() } } } } }),
    async (c) => {
      const { name } = c.req.valid('param');
      const ttlMs = c.req.valid('query').ttlMs ?? mine.get(name)?.ttlMs ?? defaultTtlMs;
      const info = await leases.holder(name, ttlMs);
      if (!info) throw new NotFound(`lease '${name}'`);
      return c.json(info, 200);
    },
  );

  app.openapi(
    defineRoute({ method: 'delete', path: '/{name}', operationId: 'releaseLease', summary: 'Release a lease this instance holds', errors: [404], request: { params }, responses: { 204: { description: 'released' } } }),
    async (c) => {
      const { name } = c.req.valid('param');
      const current = mine.get(name);
      if (!current) throw new NotFound(`lease '${name}' held by this instance`);
      mine.delete(name);
      await current.holder.release();
      return c.body(null, 204);
    },
  );

  return Object.assign(app, {
    /** Releases every lease this instance holds (graceful shutdown). */
    async releaseAll() {
      for (const { holder } of mine.values()) await holder.release().catch(() => {});
      mine.clear();
    },
  });
}
