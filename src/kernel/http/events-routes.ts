/** /api/v1/events: publish an event (POST), stream events by pattern as SSE, or upgrade the same path to a WebSocket. */
import { principalOf } from './request-state.ts';
import { z } from '@hono/zod-openapi';
import type { Context, Next } from 'hono';
import type { AppEnv } from './app-env.ts';
import { defineRoute } from './route.ts';
import { upgradeWebSocket } from 'hono/bun';
import type { EventBus, EventEnvelope, Subscription } from '../bus/port.ts';
import { Invalid } from '../errors.ts';
import { hasScope, requireAnyScope, type Principal } from './auth.ts';
import { sseResponse } from './sse-stream.ts';
import type { StreamLimits, StreamStats } from './stream-limits.ts';
import { wsStream, type WsStream } from './ws-stream.ts';
import { createRouter } from './router.ts';
import { Forbidden } from '../errors.ts';

const eventTypeSchema = z.string().regex(/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/, 'type must be dotted lower-case tokens, e.g. workflow.run.created');
const publishBody = z.strictObject({ type: eventTypeSchema, data: z.unknown(), correlationId: z.string().max(200).optional() }).openapi('PublishEvent');
const patternSchema = z.string().regex(/^([a-z0-9_-]+|\*)(\.([a-z0-9_-]+|\*))*(\.>)?$|^>$/, 'pattern: dotted tokens, * for one token, > for the rest');

/** Who may read a pattern: admin or events:read, or `<module>:read` when the pattern names that module. */
function mayRead(p: Principal | undefined, pattern: string): boolean {
  const first = pattern.split('.')[0]!;
  return hasScope(p, 'events:read') || (first !== '*' && first !== '>' && hasScope(p, `${first}:read`));
}

/** Routes for the event API; `opts` bound what each stream may hold for a slow client and count the streams. */
export function eventsRoutes(bus: EventBus, source: string, opts: { limits?: StreamLimits; stats?: StreamStats } = {}) {
  const app = createRouter('events');

  app.openapi(
    defineRoute({
      method: 'post',
      path: '/',
      operationId: 'publishEvent',
      summary: 'Publish an event on the bus (scope events:write)',
      middleware: [requireAnyScope('events:write')] as const,
      request: { body: { content: { 'application/json': { schema: publishBody } }, required: true } },
      responses: { 202: { description: 'published', content: { 'application/json': { schema: z.object({ id: z.string(), type: z.string(), time: z.string() }) } } } },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const env = await bus.publish(body.type, body.data, { source, correlationId: body.correlationId });
      return c.json({ id: env.id, type: env.type, time: env.time }, 202);
    },
  );

  app.openapi(
    defineRoute({
      method: 'get',
      path: '/',
      operationId: 'streamEvents',
      summary: 'Stream events matching a pattern as SSE, or as a WebSocket when the request asks to upgrade',
      description: 'Needs events:read, or <module>:read when the pattern names that module. Each SSE data line (or WebSocket message) is one event envelope as JSON.',
      middleware: [
        async (c: Context<AppEnv>, next: Next) => {
          const pattern = c.req.query('pattern') ?? '>';
          if (!patternSchema.safeParse(pattern).success) throw new Invalid('invalid query', [{ path: 'query.pattern', message: 'dotted tokens, * for one token, > for the rest' }]);
          const principal = principalOf(c);
          if (!principal) return requireAnyScope()(c, next);
          if (!mayRead(principal, pattern)) throw new Forbidden(`reading '${pattern}' needs events:read or <module>:read`);
          return next();
        },
        async (c: Context<AppEnv>, next: Next) => {
          if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return next();
          const pattern = c.req.query('pattern') ?? '>';
          let sub: Subscription | undefined;
          let out: WsStream | undefined;
          let stopped = false;
          const stop = () => {
            stopped = true;
            void sub?.unsubscribe();
          };
          return upgradeWebSocket(() => ({
            onOpen: async (_evt, ws) => {
              out = wsStream(ws, { ...opts, onSlow: stop });
              const s = await bus.subscribe(pattern, (e) => out!.send(e.id, JSON.stringify(e)));
              // Closed (or cut for being slow) while subscribing: nothing else will unsubscribe it.
              if (stopped) await s.unsubscribe();
              else sub = s;
            },
            onClose: () => {
              out?.closed();
              stop();
            },
          }))(c, next);
        },
      ] as const,
      request: { query: z.object({ pattern: patternSchema.optional().openapi({ description: 'dotted tokens, * for one token, > for the rest (default >)' }) }) },
      responses: {
        101: { description: 'switched to a WebSocket: one JSON event envelope per message' },
        200: { description: 'an SSE stream: one JSON event envelope per data line', content: { 'text/event-stream': { schema: z.string() } } },
      },
    }),
    (c) => {
      const pattern = c.req.query('pattern') ?? '>';
      return sseResponse(c, {
        ...opts,
        subscribe: async (send) => {
          // No `event:` name: browsers' EventSource cannot listen to every name, and the type is in the data.
          const sub = await bus.subscribe(pattern, (e: EventEnvelope) => send({ id: e.id, data: JSON.stringify(e) }));
          return () => sub.unsubscribe();
        },
      });
    },
  );
  return app;
}
