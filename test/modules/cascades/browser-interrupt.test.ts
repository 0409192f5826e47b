/**
 * A browser action in progress is interrupted by the session's signals, not only read at the next turn: an operator
 * signal makes the action give up (the model is told, and hears the signal in the next turn), and a cancel ends the
 * run at once. The action is a navigation to a page this test never answers, and the browser's action timeout is
 * longer than the test's, so without the interruption neither case can end.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../../src/kernel/bus/memory-bus.ts';
import { realClock } from '../../../src/kernel/clock/clock.ts';
import type { Database } from '../../../src/kernel/db/port.ts';
import { createPostgresDatabase } from '../../../src/kernel/db/postgres-database.ts';
import { newId } from '../../../src/kernel/ids.ts';
import type { Roles } from '../../../src/kernel/index.ts';
import { createLogger } from '../../../src/kernel/log.ts';
import { MemoryQueue } from '../../../src/kernel/queue/memory-queue.ts';
import { cascadesConfigSchema } from '../../../src/modules/cascades/config.ts';
import { checkDefinition } from '../../../src/modules/cascades/model/parse-definition.ts';
import { BrowserPool } from '../../../src/modules/cascades/runtime/browser.ts';
import { ChildRunner } from '../../../src/modules/cascades/runtime/children.ts';
import { NO_METRICS } from '../../../src/modules/cascades/runtime/metrics.ts';
import { CascadeWorker } from '../../../src/modules/cascades/runtime/worker.ts';
import { ArtifactStore, CascadeStore, ChildSessionStore, SessionDataStore } from '../../../src/modules/cascades/store/index.ts';
import { fakeLlmForFile, fakeProvider, testClient } from '../../contract/llm-fake.ts';
import { eventually } from '../../helpers/async.ts';
import { PG_URL, uniqueName } from '../../helpers/env.ts';
import { ALL_MODULE_MIGRATIONS } from '../../helpers/module-migrations.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is required in CI (scripts/ensure-services.sh installs Debian's chromium)`);

const fake = fakeLlmForFile();
const schema = uniqueName('cascbi').toLowerCase();
const queue = new MemoryQueue();
const bus = new MemoryBus({ source: 'test' });
let db: Database;
let store: CascadeStore;
let pool: BrowserPool;
let worker: CascadeWorker;
let site: ReturnType<typeof Bun.serve>;
/** Paths whose request has arrived and is being held (never answered while the test runs). */
const held: string[] = [];
const releases: (() => void)[] = [];

beforeAll(async () => {
  site = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    // Bun closes a request idle for 10 s by default, which would end the held navigation by itself.
    idleTimeout: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      held.push(path);
      // Answered only when the test ends: a navigation here waits as long as the browser lets it.
      return new Promise<Response>((resolve) => releases.push(() => resolve(new Response('<title>late</title>', { headers: { 'content-type': 'text/html' } }))));
    },
  });
  db = await createPostgresDatabase({ url: PG_URL, schema });
  await db.migrate(ALL_MODULE_MIGRATIONS);
  store = new CascadeStore(db);
  const artifacts = new ArtifactStore(db);
  const log = createLogger({ level: 'silent' });
  // An action timeout far beyond the test's: only an interruption can end the navigation in time.
  pool = new BrowserPool({ executablePath: CHROMIUM, maxPages: 2, actionTimeoutMs: 3_600_000, saveArtifact: (s, n, t, b) => artifacts.put(s, n, t, b) }, log);
  const { llm } = testClient({ providers: { fake: fakeProvider(fake) } });
  // Signals and cancels reach the run through its heartbeat here (the bus events only make it beat sooner).
  const config = cascadesConfigSchema.parse({ heartbeatMs: 100 });
  worker = new CascadeWorker({ store, queue, bus, llm, roles: undefined as unknown as Roles, log, owner: 'w1', config, metrics: NO_METRICS, clock: realClock, browsers: pool, data: new SessionDataStore(db, 10_000), children: new ChildRunner(store, new ChildSessionStore(db), queue, log) });
}, 180_000);
afterAll(async () => {
  for (const r of releases) r();
  await pool?.close();
  site?.stop(true);
  await queue.close();
  await bus.close();
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.close();
});

const browse = (args: Record<string, unknown>) => ({ toolCalls: [{ name: 'browser', arguments: args }] });

function spec(id: string) {
  return checkDefinition({ cascade_id: id, model: 'fake/m', allow_hosts: [`127.0.0.1:${site.port}`], phases: [{ name: 'visit', instructions: 'Open the slow page.', tools: ['browser'], max_turns: 5 }] });
}

describe.skipIf(!haveChromium)('browser action interrupted by the session\'s signals', () => {
  it('an operator signal interrupts a navigation in progress; the model is told and hears the signal next turn', { timeout: 120_000 }, async () => {
    const origin = `http://127.0.0.1:${site.port}`;
    // Two actions in one turn: the second must not start once the signal is waiting for the next turn.
    const turn = { toolCalls: [{ name: 'browser', arguments: { action: 'navigate', url: `${origin}/slow-signal` } }, { name: 'browser', arguments: { action: 'read_text' } }] };
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [turn, { text: 'stopped browsing' }] });
    const id = newId();
    await store.createSession(id, spec('interrupted'), {});
    const outcome = worker.runSession(id);
    await eventually('the navigation is waiting for the page', async () => (held.includes('/slow-signal') ? true : undefined), 60_000);
    expect(await store.signal(id, 'leave that page alone')).toBe(true);
    expect(await outcome).toBe('completed');
    expect((await store.getSession(id)).outputs).toEqual({ visit: 'stopped browsing' });
    const tools = (await store.logs(id)).filter((l) => l.kind === 'tool').map((l) => l.content as { ok: boolean; result: string });
    expect(tools).toEqual([
      expect.objectContaining({ ok: false, result: expect.stringMatching(/^interrupted by an operator signal/) }),
      expect.objectContaining({ ok: false, result: expect.stringMatching(/^interrupted by an operator signal/) }),
    ]);
    const asked = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id);
    expect(asked).toHaveLength(2);
    const next = JSON.stringify(asked[1]!.messages);
    expect(next).toContain('interrupted by an operator signal');
    expect(next).toContain('Signal from the operator: leave that page alone');
    // The page never answered: the navigation was given up, not finished.
    expect(releases.length).toBeGreaterThan(0);
    expect(pool.openContexts).toBe(0);
  });

  it('a cancel ends a run whose navigation is in progress at once', { timeout: 120_000 }, async () => {
    const origin = `http://127.0.0.1:${site.port}`;
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [browse({ action: 'navigate', url: `${origin}/slow-cancel` }), { text: 'never asked' }] });
    const id = newId();
    await store.createSession(id, spec('cancelled'), {});
    const outcome = worker.runSession(id);
    await eventually('the navigation is waiting for the page', async () => (held.includes('/slow-cancel') ? true : undefined), 60_000);
    expect(await store.cancel(id, 'enough')).toBeDefined();
    expect(await outcome).toBe('stopped');
    const s = await store.getSession(id);
    expect([s.status, s.error]).toEqual(['cancelled', 'enough']);
    expect((await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id)).toHaveLength(1);
    expect(pool.openContexts).toBe(0);
  });
});
