/** /api/v1/cascades: definitions, runs, sessions (state, logs, SSE events, cancel, signal) and human checkpoints. */
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import * as z from 'zod';
import { createRouter, defineRoute, documentedBody, documentedQuery, holdConnection, NotFound, storableJson, storableText, type AppEnv, type EventBus, type EventEnvelope } from '../../../kernel/index.ts';
import { nameSchema } from '../model/definition.ts';
import { parseDefinition } from '../model/parse-definition.ts';
import { SESSION_STATUSES, TERMINAL } from '../model/session.ts';
import type { CascadeService } from '../service.ts';
import { definitionFormat, jsonBody, queryOf } from './body.ts';

const runBody = z.strictObject({ inputs: z.record(z.string(), storableJson).default({}) });
const cancelBody = z.strictObject({ reason: storableText(z.string().max(500)).optional() });
const signalBody = z.strictObject({ text: storableText(z.string().min(1).max(10_000)) });
const respondBody = z.strictObject({ text: storableText(z.string().max(100_000)).optional(), value: storableJson.optional() }).refine((b) => b.text !== undefined || b.value !== undefined, { message: 'give text or value', path: ['text'] });
const sessionsQuery = z.strictObject({ status: z.enum(SESSION_STATUSES).optional(), cascade: nameSchema.optional(), parent: z.string().min(1).max(1000).optional(), limit: z.coerce.number().int().min(1).max(1000).optional() });
const logsQuery = z.strictObject({ after: z.coerce.number().int().min(0).optional(), limit: z.coerce.number().int().min(1).max(1000).optional() });
const checkpointsQuery = z.strictObject({ status: z.enum(['pending', 'answered', 'timed_out', 'cancelled']).optional() });
const SSE_KEEP_ALIVE_MS = 15_000;
const idParam = z.object({ id: z.string().min(1) });
const ok = (description: string) => ({ description, content: { 'application/json': { schema: z.any() } } });

/** The module's HTTP routes. */
export function cascadesRoutes(svc: CascadeService, bus: EventBus) {
  const app = createRouter('cascades');
  // Bodies and queries are described here and parsed by the handlers (jsonBody, queryOf): an empty body means {}.

  app.openapi(defineRoute({ method: 'post', path: '/definitions', operationId: 'defineCascade', summary: 'Create or update a cascade definition from YAML or JSON', request: { body: { required: true, content: { 'application/yaml': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object' } } } } }, responses: { 200: ok('a new version of an existing cascade'), 201: ok('the first version') } }), async (c: Context<AppEnv>) => {
    const def = parseDefinition(await c.req.text(), definitionFormat(c.req.header('content-type')));
    const version = await svc.define(def);
    return c.json({ cascadeId: def.cascade_id, version }, version === 1 ? 201 : 200);
  });
  app.openapi(defineRoute({ method: 'get', path: '/definitions', operationId: 'listCascadeDefinitions', summary: 'Every cascade definition', responses: { 200: ok('the definitions') } }), async (c) => c.json({ items: (await svc.store.listDefinitions()).map((d) => ({ cascadeId: d.cascadeId, version: d.version, updatedAt: d.updatedAt, phases: d.spec.phases.map((p) => p.name) })) }));
  app.openapi(defineRoute({ method: 'get', path: '/definitions/{id}', operationId: 'getCascadeDefinition', summary: 'One cascade definition', errors: [404], request: { params: idParam }, responses: { 200: ok('the definition') } }), async (c) => {
    const d = await svc.store.getDefinition(c.req.param('id'));
    if (!d) throw new NotFound(`cascade '${c.req.param('id')}'`);
    return c.json(d);
  });
  app.openapi(defineRoute({ method: 'post', path: '/definitions/{id}/runs', operationId: 'runCascade', summary: 'Start a session of a cascade', errors: [404], request: { params: idParam, body: documentedBody(runBody) }, responses: { 201: ok('the new session') } }), async (c: Context<AppEnv>) => {
    const body = await jsonBody(c, runBody);
    const s = await svc.run(c.req.param('id')!, body.inputs);
    return c.json({ sessionId: s.id, status: s.status }, 201);
  });

  app.openapi(defineRoute({ method: 'get', path: '/sessions', operationId: 'listCascadeSessions', summary: 'Sessions, filtered by status, cascade or parent session', parameters: documentedQuery(sessionsQuery), errors: [400], responses: { 200: ok('the sessions') } }), async (c: Context<AppEnv>) => {
    const q = queryOf(c, sessionsQuery);
    const items = await svc.store.listSessions(q);
    return c.json({ items: items.map(({ spec: _spec, ...s }) => s) });
  });
  app.openapi(defineRoute({ method: 'get', path: '/sessions/{id}', operationId: 'getCascadeSession', summary: 'One session with its phases and costs', errors: [404], request: { params: idParam }, responses: { 200: ok('the session') } }), async (c) => {
    const s = await svc.store.getSession(c.req.param('id'));
    const { spec: _spec, ...rest } = s;
    return c.json({ ...rest, phases: s.spec.phases.map((p) => p.name), costs: await svc.store.costs(s.id) });
  });
  app.openapi(defineRoute({ method: 'get', path: '/sessions/{id}/logs', operationId: 'listCascadeSessionLogs', summary: "A page of a session's unified log", errors: [404], request: { params: idParam }, parameters: documentedQuery(logsQuery), responses: { 200: ok('log entries after the given one') } }), async (c: Context<AppEnv>) => {
    const q = queryOf(c, logsQuery);
    await svc.store.getSession(c.req.param('id')!);
    return c.json({ items: await svc.store.logs(c.req.param('id')!, q.after ?? 0, q.limit ?? 500) });
  });
  app.openapi(defineRoute({ method: 'get', path: '/sessions/{id}/recording', operationId: 'getCascadeSessionRecording', summary: "An ended session's model replies and people's answers, with its definition (for snapshot tests)", errors: [404, 409], request: { params: idParam }, responses: { 200: ok('the recording') } }), async (c: Context<AppEnv>) => {
    return c.json(await svc.recording(c.req.param('id')!));
  });
  app.openapi(defineRoute({ method: 'post', path: '/sessions/{id}/cancel', operationId: 'cancelCascadeSession', summary: 'Cancel a session', errors: [404, 409], request: { params: idParam, body: documentedBody(cancelBody) }, responses: { 200: ok('the session after the change') } }), async (c: Context<AppEnv>) => {
    const body = await jsonBody(c, cancelBody);
    const s = await svc.cancel(c.req.param('id')!, body.reason);
    return c.json({ sessionId: s.id, status: s.status });
  });
  app.openapi(defineRoute({ method: 'post', path: '/sessions/{id}/signal', operationId: 'signalCascadeSession', summary: 'Send a signal to a running session', errors: [404, 409], request: { params: idParam, body: documentedBody(signalBody, { required: true }) }, responses: { 202: ok('accepted') } }), async (c: Context<AppEnv>) => {
    const body = await jsonBody(c, signalBody);
    await svc.signal(c.req.param('id')!, body.text);
    return c.json({ sessionId: c.req.param('id'), accepted: true }, 202);
  });
  app.openapi(defineRoute({ method: 'get', path: '/checkpoints', operationId: 'listCascadeCheckpoints', summary: 'Human checkpoints, by status', parameters: documentedQuery(checkpointsQuery), errors: [400], responses: { 200: ok('the checkpoints') } }), async (c: Context<AppEnv>) => c.json({ items: await svc.store.listHumanCheckpoints(queryOf(c, checkpointsQuery).status) }));
  app.openapi(defineRoute({ method: 'post', path: '/checkpoints/{id}/respond', operationId: 'respondCascadeCheckpoint', summary: 'Answer a human checkpoint', errors: [404, 409], request: { params: idParam, body: documentedBody(respondBody, { required: true }) }, responses: { 200: ok('the checkpoint after the answer') } }), async (c: Context<AppEnv>) => {
    const body = await jsonBody(c, respondBody);
    return c.json(await svc.respond(c.req.param('id')!, body.value !== undefined ? body.value : body.text));
  });

  // Events of one session from the bus, so a client on any instance sees a session running on any other.
  app.openapi(defineRoute({ method: 'get', path: '/sessions/{id}/events', operationId: 'streamCascadeSessionEvents', summary: "A session's events as SSE until it ends", errors: [404], request: { params: idParam }, responses: { 200: { description: 'one JSON event envelope per data line', content: { 'text/event-stream': { schema: { type: 'string' } } } } } }), async (c: Context<AppEnv>) => {
    const id = c.req.param('id')!;
    const first = await svc.store.getSession(id);
    holdConnection(c);
    return streamSSE(c, async (stream) => {
      const queue: EventEnvelope[] = [];
      let wake: (() => void) | undefined;
      const sub = await bus.subscribe('cascades.session.*', (e) => {
        if ((e.data as { sessionId?: unknown } | null)?.sessionId !== id) return;
        queue.push(e);
        wake?.();
      });
      stream.onAbort(() => wake?.());
      await stream.write(': subscribed\n\n');
      // Read after subscribing: a session that ended before the client connected would leave it waiting for nothing.
      const now = first.status === 'completed' ? first : await svc.store.getSession(id);
      let ended = TERMINAL.has(now.status);
      if (ended) await stream.writeSSE({ event: 'status', data: JSON.stringify({ sessionId: id, status: now.status }) });
      while (!stream.aborted && !ended) {
        const next = queue.shift();
        if (next) {
          await stream.writeSSE({ id: next.id, data: JSON.stringify(next) });
          ended = /\.(completed|failed|cancelled)$/.test(next.type);
          continue;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, SSE_KEEP_ALIVE_MS);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
        if (queue.length === 0 && !stream.aborted) await stream.write(': keep-alive\n\n');
      }
      await sub.unsubscribe();
    });
  });
  return app;
}
