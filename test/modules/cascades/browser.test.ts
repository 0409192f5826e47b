/**
 * The `browser` tool with Debian's Chromium (playwright-core) against a page this test serves on loopback: the model
 * navigates, types, clicks, reads the text and takes a screenshot (a PNG artifact) through native tool calls; a host
 * outside allow_hosts is refused, also for a page's own sub-requests; the page limit holds; the context closes with the run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler } from '../../../src/kernel/http/problem.ts';
import { newId } from '../../../src/kernel/ids.ts';
import { createLogger } from '../../../src/kernel/log.ts';
import { cascadesRoutes } from '../../../src/modules/cascades/api/routes.ts';
import { checkDefinition } from '../../../src/modules/cascades/model/parse-definition.ts';
import { NO_METRICS } from '../../../src/modules/cascades/runtime/metrics.ts';
import { CascadeService } from '../../../src/modules/cascades/service.ts';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { browse, haveChromium, serveSite, startBrowserWorker, type BrowserWorker } from '../../helpers/cascades-browser.ts';

const fake = fakeLlmForFile();
let w: BrowserWorker;
/** Requests the page server saw, by path: the refused host's sub-request must never arrive. */
const served: string[] = [];
let site: ReturnType<typeof Bun.serve>;

const PAGE = `<!doctype html><title>Greeter</title>
<h1 id="out">nobody yet</h1>
<input id="name"><button id="go" onclick="document.querySelector('#out').textContent = 'hello ' + document.querySelector('#name').value">greet</button>`;

beforeAll(async () => {
  site = serveSite((req) => {
    served.push(new URL(req.url).pathname);
    return new Response(PAGE, { headers: { 'content-type': 'text/html' } });
  });
  w = await startBrowserWorker(fake, { schemaPrefix: 'cascb', actionTimeoutMs: 20_000, maxPages: 2 });
}, 180_000);
afterAll(async () => {
  await w?.close();
  site?.stop(true);
});

describe.skipIf(!haveChromium)('browser tool', () => {
  it('navigates, types, clicks, reads text and saves a screenshot; refuses other hosts and pages past the limit; closes with the run', { timeout: 180_000 }, async () => {
    const origin = `http://127.0.0.1:${site.port}`;
    const spec = checkDefinition({
      cascade_id: 'greeter',
      model: 'fake/m',
      allow_hosts: [`127.0.0.1:${site.port}`],
      phases: [{ name: 'visit', instructions: 'Greet Ada on the page.', tools: ['browser'], max_turns: 10 }],
    });
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [
        browse({ action: 'navigate', url: `${origin}/greeter` }),
        browse({ action: 'type', selector: '#name', text: 'Ada' }),
        browse({ action: 'click', selector: '#go' }),
        browse({ action: 'read_text', selector: '#out' }),
        browse({ action: 'screenshot' }),
        browse({ action: 'navigate', url: 'http://localhost:9/elsewhere' }),
        browse({ action: 'navigate', url: `${origin}/second`, new_page: true }),
        browse({ action: 'navigate', url: `${origin}/third`, new_page: true }),
        { text: 'greeted Ada' },
      ],
    });
    const id = newId();
    await w.store.createSession(id, spec, {});
    expect(await w.worker.runSession(id)).toBe('completed');
    expect((await w.store.getSession(id)).outputs).toEqual({ visit: 'greeted Ada' });

    const results = (await w.store.logs(id)).filter((l) => l.kind === 'tool').map((l) => l.content as { ok: boolean; result: string });
    expect(results).toHaveLength(8);
    expect(results[0]).toMatchObject({ ok: true, result: expect.stringContaining('title "Greeter"') });
    expect(results[3]).toEqual(expect.objectContaining({ ok: true, result: 'hello Ada' }));
    const shot = /screenshot saved as the session artifact (\S+)$/.exec(results[4]!.result)![1]!;
    // Kept in the database and served by the API (from any instance), as a PNG download.
    expect(await w.artifacts.list(id)).toEqual([expect.objectContaining({ name: shot, contentType: 'image/png' })]);
    const api = cascadesRoutes(new CascadeService(w.store, w.queue, NO_METRICS), w.bus, w.artifacts);
    api.onError(errorHandler(createLogger({ level: 'silent' })));
    const listed = await api.request(`/sessions/${id}/artifacts`);
    expect(((await listed.json()) as { items: { name: string; size: number }[] }).items).toEqual([expect.objectContaining({ name: shot, size: expect.any(Number) })]);
    const file = await api.request(`/sessions/${id}/artifacts/${shot}`);
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await file.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
    expect((await api.request(`/sessions/${id}/artifacts/nope.png`)).status).toBe(404);
    expect(results[5]).toMatchObject({ ok: false, result: expect.stringContaining("host 'localhost:9' is not in the allowed hosts") });
    expect(results[6]!.ok).toBe(true);
    expect(results[7]).toMatchObject({ ok: false, result: 'error: page limit of 2 reached' });
    expect(served).toEqual(['/greeter', '/second']);
    // The session's context was closed when its run ended.
    expect(w.pool.openContexts).toBe(0);
  });

  it('the context itself aborts requests to hosts outside allow_hosts, not only the tool check', { timeout: 120_000 }, async () => {
    const spec = checkDefinition({ cascade_id: 'sneaky', model: 'fake/m', allow_hosts: [], phases: [{ name: 'visit', instructions: 'Look.', tools: ['browser'], max_turns: 3 }] });
    const b = await w.pool.forSession('direct-check', spec.allow_hosts);
    try {
      // Navigation itself goes through the context's route, so even a URL the tool would refuse is stopped there.
      await expect(b.navigate(`http://127.0.0.1:${site.port}/blocked`, false)).rejects.toThrow(/ERR_BLOCKED_BY_CLIENT/);
      expect(served).not.toContain('/blocked');
    } finally {
      await b.close();
    }
    expect(await w.artifacts.list('direct-check')).toEqual([]);
    expect(w.pool.openContexts).toBe(0);
  });
});
