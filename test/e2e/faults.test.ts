/** Faults: dependencies unreachable at start, and lost while running (readyz turns 503, work resumes, nothing acknowledged is lost). */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/kernel/http/auth.ts';
import { childNats, childRedis, type ChildService } from '../helpers/child-services.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../helpers/env.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { runCapstan, startServer, tempDir, type ServerProcess } from '../helpers/server-process.ts';

const TOKEN = 'faults-token';
const tokens = `[{name: f, sha256: ${hashToken(TOKEN)}, scopes: [admin]}]`;
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
let db: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  db = await createTestDatabase('faults');
});
afterAll(async () => {
  await db?.drop();
});

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('a dependency unreachable at start', () => {
  const closed = (scheme: string) => `${scheme}://user:topsecret@127.0.0.1:1`;
  const cases = [
    ['PostgreSQL', () => ({ DATABASE_URL: `${closed('postgres')}/x`, REDIS_URL, NATS_URL })],
    ['Redis', () => ({ DATABASE_URL: db.url, REDIS_URL: closed('redis'), NATS_URL })],
    ['NATS', () => ({ DATABASE_URL: db.url, REDIS_URL, NATS_URL: closed('nats') })],
  ] as const;
  for (const [name, env] of cases) {
    it(`${name}: retries with backoff for the bounded time, then exits 1 naming it and the URL without its password`, async () => {
      const run = await runCapstan(['serve', '--port', '0'], {
        env: { ...env(), CAPSTAN_AUTH__TOKENS: tokens, CAPSTAN_STARTUP_TIMEOUT_MS: '1500', CAPSTAN_PREFIX: uniqueName('faults').toLowerCase() },
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`${name} at`);
      expect(run.stderr).toContain('127.0.0.1:1');
      expect(run.stderr).not.toContain('topsecret');
      expect(run.stderr).toMatch(/unreachable, retrying/);
    });
  }
});

describe('Redis and NATS lost while running', () => {
  let redis: ChildService;
  let nats: ChildService;
  let server: ServerProcess;
  const prefix = uniqueName('lost').toLowerCase();

  beforeAll(async () => {
    redis = await childRedis(tempDir('capstan-redis-'));
    nats = await childNats(tempDir('capstan-nats-'));
    await Promise.all([redis.start(), nats.start()]);
    server = await startServer({ env: { DATABASE_URL: db.url, REDIS_URL: redis.url, NATS_URL: nats.url, CAPSTAN_AUTH__TOKENS: tokens, CAPSTAN_PREFIX: prefix } });
  }, 180_000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await redis?.kill();
    await nats?.kill();
  });

  async function ready(): Promise<{ status: number; body: { dependencies: Record<string, { ok: boolean }> } }> {
    const res = await fetch(`${server.url}/readyz`);
    return { status: res.status, body: (await res.json()) as { dependencies: Record<string, { ok: boolean }> } };
  }

  it('Redis: /readyz turns 503 naming the queue, acknowledged jobs survive the restart and are processed', async () => {
    expect((await ready()).status).toBe(200);
    // Jobs acknowledged (201) before the crash; a worker on this instance takes them once Redis is back.
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${server.url}/api/v1/queues/capstan-diagnostics/jobs`, { method: 'POST', headers, body: JSON.stringify({ name: 'ping', delayMs: 1500 }) });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as { id: string }).id);
    }
    await redis.kill('SIGKILL');
    const down = await until('readyz 503', async () => {
      const r = await ready();
      return r.status === 503 ? r : undefined;
    });
    expect(down.body.dependencies.queue?.ok).toBe(false);
    expect(down.body.dependencies.database?.ok).toBe(true);
    await redis.start();
    await until('readyz 200', async () => ((await ready()).status === 200 ? true : undefined));
    for (const id of ids) {
      const state = await until(`job ${id} completed`, async () => {
        const r = await fetch(`${server.url}/api/v1/queues/capstan-diagnostics/jobs/${id}`, { headers });
        const job = (await r.json()) as { state?: string };
        return job.state === 'completed' ? job.state : undefined;
      });
      expect(state).toBe('completed');
    }
  });

  it('NATS: /readyz turns 503 naming the bus, acknowledged events are still in the stream after the restart', async () => {
    const published: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${server.url}/api/v1/events`, { method: 'POST', headers, body: JSON.stringify({ type: 'faults.nats.kept', data: { i } }) });
      expect(res.status).toBe(202);
      published.push(((await res.json()) as { id: string }).id);
    }
    await nats.kill('SIGKILL');
    const down = await until('readyz 503', async () => {
      const r = await ready();
      return r.status === 503 ? r : undefined;
    });
    expect(down.body.dependencies.bus?.ok).toBe(false);
    await nats.start();
    await until('readyz 200', async () => ((await ready()).status === 200 ? true : undefined));
    // Publishing works again through the same server.
    const again = await fetch(`${server.url}/api/v1/events`, { method: 'POST', headers, body: JSON.stringify({ type: 'faults.nats.after', data: {} }) });
    expect(again.status).toBe(202);
    // Every acknowledged event is in the stream: read the stream directly.
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const streams = await jsm.streams.list().next();
      const stream = streams.find((s) => s.config.subjects?.some((sub) => sub.startsWith(`${prefix}.`)));
      expect(stream, 'the bus stream exists after restart').toBeDefined();
      const ids: string[] = [];
      for (let seq = 1; seq <= stream!.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(stream!.config.name, { seq }).catch(() => null);
        if (m) ids.push(JSON.parse(new TextDecoder().decode(m.data)).id);
      }
      for (const id of published) expect(ids).toContain(id);
    } finally {
      await nc.close();
    }
  });
});
