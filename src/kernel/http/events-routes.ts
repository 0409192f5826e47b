/** /api/v1/events: publish an event (POST), stream events by pattern as SSE, or upgrade the same path to a WebSocket. */
import { createRoute, z } from '@hono/zod-openapi';
import { upgradeWebSocket } from 'hono/bun';
import { streamSSE } from 'hono/streaming';
import type { EventBus, EventEnvelope, Subscription } from '../bus/port.ts';
import { Invalid } from '../errors.ts';
import { hasScope, requireAnyScope, type Principal } from './auth.ts';
import { holdConnection } from './hold-connection.ts';
import { createRouter } from './router.ts';
import { Forbidden } from '../errors.ts';

/** A comment line this often on a quiet SSE stream: well under the idle timeouts of Bun (10 s) and common proxies. */
const SSE_KEEP_ALIVE_MS = 5_000;

const eventTypeSchema = z.string().regex(/^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)+$/, 'type must be dotted lower-case tokens, e.g. workflow.run.created');
const publishBody = z.strictObject({ type: eventTypeSchema, data: z.unknown(), correlationId: z.string().max(200).optional() }).openapi('PublishEvent');
const patternSchema = z.string().regex(/^([a-z0-9_-]+|\*)(\.([a-z0-9_-]+|\*))*(\.>)?$|^>$/, 'pattern: dotted tokens, * for one token, > for the rest');

/** Who may read a pattern: admin or events:read, or `<module>:read` when the pattern names that module. */
function mayRead(p: Principal | undefined, pattern: string): boolean {
  const first = pattern.split('.')[0]!;
  return hasScope(p, 'events:read') || (first !== '*' && first !== '>' && hasScope(p, `${first}:read`));
}

/** Routes for the event API. */
export function eventsRoutes(bus: EventBus, source: string) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'post',
      path: '/',
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

  app.get(
    '/',
    async (c, next) => {
      const pattern = c.req.query('pattern') ?? '>';
      if (!patternSchema.safeParse(pattern).success) throw new Invalid('invalid query', [{ path: 'query.pattern', message: 'dotted tokens, * for one token, > for the rest' }]);
      if (!c.get('principal')) return requireAnyScope()(c, next);
      if (!mayRead(c.get('principal'), pattern)) throw new Forbidden(`reading '${pattern}' needs events:read or <module>:read`);
      return next();
    },
    async (c, next) => {
      if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return next();
      const pattern = c.req.query('pattern') ?? '>';
      let sub: Subscription | undefined;
      return upgradeWebSocket(() => ({
        onOpen: async (_evt, ws) => {
          sub = await bus.subscribe(pattern, (e) => ws.send(JSON.stringify(e)));
        },
        onClose: () => {
          void sub?.unsubscribe();
        },
      }))(c, next);
    },
    (c) => {
      const pattern = c.req.query('pattern') ?? '>';
      // A quiet stream would be cut by the idle timeout (and events lost while the client reconnects). The stream
      // ends when the client goes; the keep-alives below also keep proxies from timing out.
      holdConnection(c);
      return streamSSE(c, async (stream) => {
        const queue: EventEnvelope[] = [];
        let wake: (() => void) | undefined;
        const sub = await bus.subscribe(pattern, (e) => {
          queue.push(e);
          wake?.();
        });
        stream.onAbort(() => {
          void sub.unsubscribe();
          wake?.();
        });
        // A comment line first so clients (and proxies) see the stream is open before any event.
        await stream.write(': subscribed\n\n');
        while (!stream.aborted) {
          const next = queue.shift();
          if (next) {
            // No `event:` name: browsers' EventSource cannot listen to every name, and the type is in the data.
            await stream.writeSSE({ id: next.id, data: JSON.stringify(next) });
            continue;
          }
          // Wait for an event or a keep-alive, never spin.
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
    },
  );
  return app;
}
