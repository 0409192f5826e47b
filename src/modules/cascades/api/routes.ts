/** /api/v1/cascades: definitions, runs, sessions (state, logs, SSE events, cancel, signal) and human checkpoints. */
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { BODY, createRouter, holdConnection, namedUnder, NotFound, type AppEnv, type EventBus, type EventEnvelope } from '../../../kernel/index.ts';
import { parseDefinition } from '../model/parse-definition.ts';
import { TERMINAL } from '../model/session.ts';
import type { CascadeService } from '../service.ts';
import type { ArtifactStore } from '../store/index.ts';
import { definitionFormat, jsonBody, queryOf } from './body.ts';
import { cancelBody, checkpointsQuery, logsQuery, ops, respondBody, runBody, sessionsQuery, signalBody } from './operations.ts';

const SSE_KEEP_ALIVE_MS = 15_000;

/** The module's HTTP routes. */
export function cascadesRoutes(svc: CascadeService, bus: EventBus, artifacts: ArtifactStore) {
  const app = createRouter('cascades');
  // Bodies and queries are described in operations.ts and parsed by the handlers (jsonBody, queryOf): an empty body means {}.

  app.openapi(ops.defineCascade, async (c: Context<AppEnv>) => {
    const text = await c.req.text();
    const def = namedUnder(BODY, () => parseDefinition(text, definitionFormat(c.req.header('content-type'))));
    const version = await svc.define(def);
    return c.json({ cascadeId: def.cascade_id, version }, version === 1 ? 201 : 200);
  });
  app.openapi(ops.listCascadeDefinitions, async (c) => c.json({ items: (await svc.store.listDefinitions()).map((d) => ({ cascadeId: d.cascadeId, version: d.version, updatedAt: d.updatedAt, phases: d.spec.phases.map((p) => p.name) })) }));
  app.openapi(ops.getCascadeDefinition, async (c) => {
    const d = await svc.store.getDefinition(c.req.param('id'));
    if (!d) throw new NotFound(`cascade '${c.req.param('id')}'`);
    return c.json(d);
  });
  app.openapi(ops.runCascade, async (c: Context<AppEnv>) => {
    const body = await jsonBody(c, runBody);
    const s = await svc.run(c.req.param('id')!, body.inputs);
    return c.json({ sessionId: s.id, status: s.status }, 201);
  });

  app.openapi(ops.listCascadeSessions, async (c: Context<AppEnv>) => {
    const q = queryOf(c, sessionsQuery);
    const items = await svc.store.listSessions(q);
    return c.json({ items: items.map(({ spec: _spec, ...s }) => s) });
  });
  app.openapi(ops.getCascadeSession, async (c) => {
    const s = await svc.store.getSession(c.req.param('id'));
    const { spec: _spec, ...rest } = s;
    return c.json({ ...rest, phases: s.spec.phases.map((p) => p.name), costs: await svc.store.costs(s.id) });
  });
  app.openapi(ops.listCascadeSessionLogs, async (c: Context<AppEnv>) => {
    const q = queryOf(c, logsQuery);
    await svc.store.getSession(c.req.param('id')!);
    return c.json({ items: await svc.store.logs(c.req.param('id')!, q.after ?? 0, q.limit ?? 500) });
  });
  app.openapi(ops.getCascadeSessionRecording, async (c: Context<AppEnv>) => {
    return c.json(await svc.recording(c.req.param('id')!));
  });
  app.openapi(ops.listCascadeSessionArtifacts, async (c) => {
    await svc.store.getSession(c.req.param('id'));
    return c.json({ items: await artifacts.list(c.req.param('id')) }, 200);
  });
  app.openapi(ops.getCascadeSessionArtifact, async (c) => {
    const { id, name } = c.req.valid('param');
    const a = await artifacts.get(id, name);
    if (!a) throw new NotFound(`artifact '${name}' of session '${id}'`);
    // Served as a download with no sniffing: an artifact is what a web page rendered, never script for this origin.
    return new Response(a.bytes as Uint8Array<ArrayBuffer>, { status: 200, headers: { 'content-type': a.contentType, 'content-length': String(a.bytes.byteLength), 'x-content-type-options': 'nosniff', 'content-disposition': `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"` } });
  });
  app.openapi(ops.cancelCascadeSession, async (c: Context<AppEnv>) => {
    const body = await jsonBody(c, cancelBody);
    const s = await svc.cancel(c.req.param('id')!, body.reason);
    return c.json({ sessionId: s.id, status: s.status });
  });
  app.openapi(ops.signalCascadeSession, async (c: Context<AppEnv>) => {
    const body = await jsonBody(c, signalBody);
    await svc.signal(c.req.param('id')!, body.text);
    return c.json({ sessionId: c.req.param('id'), accepted: true }, 202);
  });
  app.openapi(ops.listCascadeCheckpoints, async (c: Context<AppEnv>) => c.json({ items: await svc.store.listHumanCheckpoints(queryOf(c, checkpointsQuery).status) }));
  app.openapi(ops.respondCascadeCheckpoint, async (c: Context<AppEnv>) => {
    const body = await jsonBody(c, respondBody);
    return c.json(await svc.respond(c.req.param('id')!, body.value !== undefined ? body.value : body.text));
  });

  // Events of one session from the bus, so a client on any instance sees a session running on any other.
  app.openapi(ops.streamCascadeSessionEvents, async (c: Context<AppEnv>) => {
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
