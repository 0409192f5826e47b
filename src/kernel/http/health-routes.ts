/** /healthz (the process is up) and /readyz (every dependency answers; 503 otherwise). */
import { Hono } from 'hono';
import type { Resources } from '../resources.ts';
import type { AppEnv } from './app-env.ts';

/** Outcome of one dependency check. */
export interface DependencyStatus {
  ok: boolean;
  kind: string;
  latencyMs: number;
  error?: string;
}

async function check(kind: string, ping: () => Promise<void>, timeoutMs: number): Promise<DependencyStatus> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { ok: true, kind, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return { ok: false, kind, latencyMs: Math.round(performance.now() - started), error: (err as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** Checks all dependencies in parallel; used by /readyz and the console overview. */
export async function readiness(r: Resources, timeoutMs = 2_000): Promise<{ ready: boolean; dependencies: Record<string, DependencyStatus> }> {
  const distributed = r.mode === 'distributed';
  const [database, queue, bus, kv] = await Promise.all([
    check(r.db.kind === 'postgres' ? 'postgresql' : 'pglite', () => r.db.ping(), timeoutMs),
    check(distributed ? 'redis' : 'memory', () => r.queue.ping(), timeoutMs),
    check(distributed ? 'nats' : 'memory', () => r.bus.ping(), timeoutMs),
    check(distributed ? 'nats-kv' : 'memory', () => r.kv.ping(), timeoutMs),
  ]);
  const dependencies = { database, queue, bus, kv };
  return { ready: Object.values(dependencies).every((d) => d.ok), dependencies };
}

/** Health routes; they sit outside auth so load balancers can probe them. */
export function healthRoutes(r: Resources) {
  const app = new Hono<AppEnv>();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const result = await readiness(r);
    return c.json({ status: result.ready ? 'ready' : 'not ready', ...result }, result.ready ? 200 : 503);
  });
  return app;
}
