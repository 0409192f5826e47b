/** The baseline side of the HTTP benchmark: a bare Hono app with the same two routes, checking by hand. */
import { Hono } from 'hono';

/** Same JSON as the kernel's routes; the POST checks the bearer token and the fields without zod. */
export function baselineApp(token: string) {
  const app = new Hono();
  const expected = `Bearer ${token}`;
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.post('/api/v1/bench/say', async (c) => {
    if (c.req.header('authorization') !== expected) return c.json({ error: 'unauthorized' }, 401);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'body is not JSON' }, 400);
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return c.json({ error: 'body must be an object' }, 400);
    const { text, times = 1, ...rest } = body as Record<string, unknown>;
    if (Object.keys(rest).length > 0) return c.json({ error: `unknown field ${Object.keys(rest)[0]}` }, 400);
    if (typeof text !== 'string' || text.length === 0) return c.json({ error: 'text must be a non-empty string' }, 400);
    if (typeof times !== 'number' || !Number.isInteger(times) || times < 1 || times > 5) return c.json({ error: 'times must be an integer 1..5' }, 400);
    return c.json({ said: text.repeat(times) });
  });
  return { fetch: app.fetch, close: async () => {} };
}
