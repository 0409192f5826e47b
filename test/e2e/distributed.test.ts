/** Two `capstan serve` processes share PostgreSQL, Redis and NATS: events, jobs and leases cross between them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/kernel/http/auth.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../helpers/env.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';
import { eventually } from '../kit/index.ts';

const TOKEN = 'e2e-admin-token';
const prefix = uniqueName('e2e').toLowerCase();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let a: ServerProcess; // role api: serves HTTP, runs no workers
let b: ServerProcess; // role all: serves HTTP and runs workers
const servers: ServerProcess[] = [];

function envFor(): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    REDIS_URL,
    NATS_URL,
    CAPSTAN_PREFIX: prefix,
    CAPSTAN_AUTH__TOKENS: `[{name: e2e, sha256: ${hashToken(TOKEN)}, scopes: [admin]}]`,
    CAPSTAN_LEASES__DEFAULT_TTL_MS: '3000',
  };
}
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
async function call(s: ServerProcess, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(s.url + path, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
}

/** Reads SSE frames from a stream until `predicate` matches one event's JSON. */
async function nextEvent(res: Response, predicate: (e: { type: string; data: Record<string, unknown> }) => boolean): Promise<{ type: string; data: Record<string, unknown> }> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('stream ended');
    buf += dec.decode(value);
    let idx: number;
    while ((idx = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, idx);
      buf = buf.slice(idx + 2);
      const data = frame.split('\n').find((l) => l.startsWith('data: '));
      if (!data) continue;
      const evt = JSON.parse(data.slice(6));
      if (predicate(evt)) {
        await reader.cancel();
        return evt;
      }
    }
  }
}

beforeAll(async () => {
  db = await createTestDatabase('e2e');
  // Start them one after the other so that both run the migration path; the advisory lock makes it safe either way.
  [a, b] = await Promise.all([startServer({ env: envFor(), args: ['--role', 'api'] }), startServer({ env: envFor(), args: ['--role', 'all'] })]);
  servers.push(a, b);
}, 180_000);

afterAll(async () => {
  for (const s of servers) await s.stop('SIGTERM');
  await db?.drop();
});

describe('two instances on shared PostgreSQL, Redis and NATS', () => {
  it('both are ready in distributed mode', async () => {
    for (const s of [a, b]) {
      const ready = (await (await fetch(`${s.url}/readyz`)).json()) as { status: string; dependencies: Record<string, { kind: string }> };
      expect(ready.status).toBe('ready');
      expect(ready.dependencies.database?.kind).toBe('postgresql');
      expect(ready.dependencies.queue?.kind).toBe('redis');
      expect(ready.dependencies.bus?.kind).toBe('nats');
    }
    const info = (await (await call(a, 'GET', '/api/v1')).json()) as { mode: string };
    expect(info.mode).toBe('distributed');
  });

  it('an event published through one appears on the other one’s SSE stream', async () => {
    const stream = await fetch(`${b.url}/api/v1/events?pattern=e2e.>`, { headers: auth });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    await reader.read(); // subscribed
    reader.releaseLock();
    const got = nextEvent(stream, (e) => e.type === 'e2e.cross.hello');
    const pub = await call(a, 'POST', '/api/v1/events', { type: 'e2e.cross.hello', data: { from: 'a' } });
    expect(pub.status).toBe(202);
    const evt = await got;
    expect(evt.data).toEqual({ from: 'a' });
  });

  it('a job added through one is processed by a worker in the other', async () => {
    const bInfo = (await (await call(b, 'GET', '/api/v1')).json()) as { instanceId: string };
    const added = await call(a, 'POST', '/api/v1/queues/capstan-diagnostics/jobs', { name: 'ping' });
    expect(added.status).toBe(201);
    const { id } = (await added.json()) as { id: string };
    type Job = { state: string; returnValue?: { instanceId: string } };
    const job = await eventually(
      async () => {
        const j = (await (await call(a, 'GET', `/api/v1/queues/capstan-diagnostics/jobs/${id}`)).json()) as Job;
        expect(j.state).toBe('completed');
        return j;
      },
      { timeout: 10_000, what: 'the ping job completed by the other instance' },
    );
    expect(job.returnValue?.instanceId).toBe(bInfo.instanceId);
  });

  it('a lease held by one is refused to the other, and granted within TTL + 1 s after the holder is SIGKILLed', async () => {
    const held = await call(a, 'POST', '/api/v1/leases/e2e-lease', { ttlMs: 3000 });
    expect(held.status).toBe(201);
    const first = (await held.json()) as { token: number; owner: string };
    const refused = await call(b, 'POST', '/api/v1/leases/e2e-lease', { ttlMs: 3000 });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { holder: { owner: string } }).holder.owner).toBe(first.owner);

    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    const granted = await eventually(
      async () => {
        const r = await call(b, 'POST', '/api/v1/leases/e2e-lease', { ttlMs: 3000 });
        if (r.status === 201) return r;
        await r.body?.cancel();
        return undefined;
      },
      { timeout: 10_000, interval: 100, what: 'the lease granted after the holder died' },
    );
    const takeoverMs = Date.now() - killedAt;
    const second = (await granted!.json()) as { token: number };
    expect(second.token).toBeGreaterThan(first.token);
    // The promise: the survivor gets the lease within TTL + 1 s.
    expect(takeoverMs).toBeLessThanOrEqual(3000 + 1000);
  });
});
