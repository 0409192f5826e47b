/**
 * A browser action in progress is interrupted by the session's signals, not only read at the next turn: an operator
 * signal makes the action give up (the model is told, and hears the signal in the next turn), and a cancel ends the
 * run at once. The action is a navigation to a page this test never answers, and the browser's action timeout is
 * longer than the test's, so without the interruption neither case can end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../../src/kernel/ids.ts';
import { checkDefinition } from '../../../src/modules/cascades/model/parse-definition.ts';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { eventually } from '../../helpers/async.ts';
import { browse, haveChromium, serveSite, startBrowserWorker, type BrowserWorker } from '../../helpers/cascades-browser.ts';

const fake = fakeLlmForFile();
let w: BrowserWorker;
let site: ReturnType<typeof Bun.serve>;
/** Paths whose request has arrived and is being held (never answered while the test runs). */
const held: string[] = [];
const releases: (() => void)[] = [];

beforeAll(async () => {
  site = serveSite((req) => {
    held.push(new URL(req.url).pathname);
    // Answered only when the test ends: a navigation here waits as long as the browser lets it.
    return new Promise<Response>((resolve) => releases.push(() => resolve(new Response('<title>late</title>', { headers: { 'content-type': 'text/html' } }))));
  });
  // An action timeout far beyond the test's: only an interruption can end the navigation in time. Signals and
  // cancels reach the run through its heartbeat here (the bus events only make it beat sooner).
  w = await startBrowserWorker(fake, { schemaPrefix: 'cascbi', actionTimeoutMs: 3_600_000, config: { heartbeatMs: 100 } });
}, 180_000);
afterAll(async () => {
  for (const r of releases) r();
  await w?.close();
  site?.stop(true);
});

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
    await w.store.createSession(id, spec('interrupted'), {});
    const outcome = w.worker.runSession(id);
    await eventually('the navigation is waiting for the page', async () => (held.includes('/slow-signal') ? true : undefined), 60_000);
    expect(await w.store.signal(id, 'leave that page alone')).toBe(true);
    expect(await outcome).toBe('completed');
    expect((await w.store.getSession(id)).outputs).toEqual({ visit: 'stopped browsing' });
    const tools = (await w.store.logs(id)).filter((l) => l.kind === 'tool').map((l) => l.content as { ok: boolean; result: string });
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
    expect(w.pool.openContexts).toBe(0);
  });

  it('a cancel ends a run whose navigation is in progress at once', { timeout: 120_000 }, async () => {
    const origin = `http://127.0.0.1:${site.port}`;
    await fake.script({ sessionHeader: 'x-capstan-session', replies: [browse({ action: 'navigate', url: `${origin}/slow-cancel` }), { text: 'never asked' }] });
    const id = newId();
    await w.store.createSession(id, spec('cancelled'), {});
    const outcome = w.worker.runSession(id);
    await eventually('the navigation is waiting for the page', async () => (held.includes('/slow-cancel') ? true : undefined), 60_000);
    expect(await w.store.cancel(id, 'enough')).toBeDefined();
    expect(await outcome).toBe('stopped');
    const s = await w.store.getSession(id);
    expect([s.status, s.error]).toEqual(['cancelled', 'enough']);
    expect((await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id)).toHaveLength(1);
    expect(w.pool.openContexts).toBe(0);
  });
});
