/** Drives the workflow console page in headless Chromium: runs table, counts, filters, the run page with its
 * timeline, object and drawn diagram, pause/resume/cancel/delete data through the buttons, the table and the run
 * page following SSE live (the diagram's highlight moving with the run), DAG step states, and the definitions page. */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELETE_CONFIRM } from '../../src/modules/workflow/ui/run-script.ts';
import { PAGE_SIZE } from '../../src/modules/workflow/ui/runs-filter.ts';
import { REPO_ROOT, startServer, tempDir, type ServerProcess } from '../helpers/server-process.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is required in CI (scripts/ensure-services.sh installs Debian's chromium)`);
if (!haveChromium) console.warn(`${CHROMIUM} not installed: skipping the workflow console browser test (apt-get install chromium)`);

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const DEFINITION = `
name: approval
start: waiting
states:
  waiting: { callback: { to: [approved, rejected] } }
  approved: {}
  rejected: {}
`;

// A review loop: back from review to draft, a timeout to a terminal the test never reaches.
const REVIEW = `
name: review
start: draft
states:
  draft: { callback: { to: [review] } }
  review: { callback: { to: [approved, draft] }, timeout: { after: 1h, to: expired } }
  approved: {}
  expired: {}
`;

/** A run as the API returns it (the fields this test reads). */
interface ApiRun {
  runId: string;
  foreignId: string;
  status: string;
  runState: string;
  object: unknown;
}

describe.skipIf(!haveChromium)('workflow console in a browser', () => {
  let browser: Browser;
  let server: ServerProcess;
  const runIds = new Map<string, string>();

  async function api<T>(method: string, path: string, body?: unknown, type = 'application/json'): Promise<T> {
    const res = await fetch(`${server.url}/api/v1/workflow${path}`, { method, headers: body === undefined ? {} : { 'content-type': type }, body: typeof body === 'string' || body === undefined ? body : JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status}: ${text}`);
    return JSON.parse(text) as T;
  }
  const trigger = async (foreignId: string, object: unknown) => {
    const { runId } = await api<{ runId: string }>('POST', '/workflows/approval/runs', { foreignId, object });
    runIds.set(foreignId, runId);
    return runId;
  };
  const apiRun = (foreignId: string) => api<ApiRun>('GET', `/runs/${runIds.get(foreignId)}`);
  const count = (page: Page, state: string) => page.locator(`#count-${state} b`).textContent();
  /** The drawn node of a status or step in the run page's diagram. */
  const node = (page: Page, id: string) => page.locator(`#diagram svg.graph g.graph-node[data-node="${id}"]`);
  const classesOf = async (page: Page, id: string) => ((await node(page, id).getAttribute('class')) ?? '').split(' ');
  const edge = (page: Page, from: string, to: string) => page.locator(`#diagram svg.graph g.graph-edge[data-from="${from}"][data-to="${to}"]`);
  const row = (page: Page, foreignId: string) => page.locator(`#run-rows tr[data-run-id="${runIds.get(foreignId)}"]`);

  beforeAll(async () => {
    [browser, server] = await Promise.all([chromium.launch({ executablePath: CHROMIUM, args: ARGS }), startServer({ args: ['--data-dir', join(tempDir(), 'wf-console')] })]);
    await api('POST', '/definitions', DEFINITION, 'application/yaml');
    // Markup in the object must come out as text on the run page.
    for (const n of [1, 2, 3]) await trigger(`order-${n}`, { n, lines: [{ sku: `sku-${n}`, qty: n }], note: '<img src=x onerror=alert(1)>' });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('lists the runs with counts by run state inside the console frame, and filters by foreign id', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/ui/workflow`);
    expect(await page.locator('header .brand').textContent()).toBe('CAPSTAN');
    expect(await page.locator('nav a.active').textContent()).toBe('workflow');
    expect(await page.locator('nav a', { hasText: 'Overview' }).count()).toBe(1);

    await expect.poll(() => page.locator('#run-rows tr.run-row').count()).toBe(3);
    // Newest first.
    const foreignIds = await page.locator('#run-rows tr.run-row td:nth-child(3)').allTextContents();
    expect(foreignIds).toEqual(['order-3', 'order-2', 'order-1']);
    expect(await count(page, 'running')).toBe('3');
    expect(await count(page, 'paused')).toBe('0');
    expect(await page.locator('#count-total').textContent()).toBe('3');

    await page.fill('#filters input[name=foreignId]', 'order-2');
    await page.click('#filters button[type=submit]');
    await page.waitForURL((u) => u.searchParams.get('foreignId') === 'order-2');
    await expect.poll(() => page.locator('#run-rows tr.run-row').count()).toBe(1);
    expect(await row(page, 'order-2').count()).toBe(1);

    // A run state no run is in: an empty table, the filter kept in the form.
    await page.selectOption('#filters select[name=runState]', 'cancelled');
    await page.click('#filters button[type=submit]');
    await page.locator('#run-rows td', { hasText: 'No runs match.' }).waitFor();
    expect(await page.inputValue('#filters input[name=foreignId]')).toBe('order-2');
    await page.close();
  });

  it('shows a run: timeline, escaped JSON object, definition graph; Pause and Resume go through the API', async () => {
    const page = await browser.newPage();
    const alerts: string[] = [];
    page.on('dialog', (d) => {
      alerts.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${server.url}/ui/workflow?foreignId=order-2`);
    await row(page, 'order-2').locator('a').click();
    await page.waitForURL(`**/ui/workflow/runs/${runIds.get('order-2')}`);

    expect(await page.locator('#run-status').textContent()).toBe('waiting');
    expect(await page.locator('#run-state').textContent()).toBe('running');
    expect(await page.locator('#timeline li').count()).toBe(1);
    expect(await page.locator('#timeline li').first().textContent()).toContain('waiting');
    const shown = await page.locator('#object').textContent();
    expect(JSON.parse(shown ?? '')).toEqual({ n: 2, lines: [{ sku: 'sku-2', qty: 2 }], note: '<img src=x onerror=alert(1)>' });
    expect(await page.locator('#object img').count()).toBe(0);
    // The definition is drawn: a box per status, the run's status highlighted, the path from the start marker taken.
    for (const s of ['waiting', 'approved', 'rejected']) expect(await node(page, s).locator('rect').count()).toBeGreaterThan(0);
    expect(await classesOf(page, 'waiting')).toEqual(expect.arrayContaining(['current', 'run-running']));
    expect(await classesOf(page, 'approved')).not.toContain('current');
    expect(await edge(page, '[*]', 'waiting').getAttribute('class')).toContain('taken');
    expect(await edge(page, 'waiting', 'approved').getAttribute('class')).not.toContain('taken');
    // The Mermaid source stays available behind its toggle, closed.
    expect(await page.locator('#diagram details.wf-source pre').textContent()).toContain('waiting --> approved');
    expect(await page.isVisible('#diagram details.wf-source pre')).toBe(false);
    expect(await page.isDisabled('#resume')).toBe(true);
    // A running run's data cannot be deleted, so the page does not offer it.
    expect(await page.locator('#delete').count()).toBe(0);

    await page.click('#pause');
    await page.locator('#run-state', { hasText: 'paused' }).waitFor();
    expect((await apiRun('order-2')).runState).toBe('paused');
    await expect.poll(() => classesOf(page, 'waiting')).toContain('run-paused');
    expect(await page.locator('#timeline li').count()).toBe(2);
    expect(await page.locator('#timeline li').last().textContent()).toContain('paused in the console');
    expect(await page.isDisabled('#pause')).toBe(true);

    await page.click('#resume');
    await page.locator('#run-state', { hasText: 'running' }).waitFor();
    expect((await apiRun('order-2')).runState).toBe('running');
    expect(await page.locator('#timeline li').count()).toBe(3);
    expect(alerts).toEqual([]);

    mkdirSync(join(REPO_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(REPO_ROOT, 'test-results/workflow-console-run.png'), fullPage: true });
    await page.close();
  });

  it('cancels only on the second click', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/ui/workflow/runs/${runIds.get('order-3')}`);
    await page.click('#cancel');
    expect(await page.locator('#cancel').textContent()).toBe('Really cancel?');
    expect((await apiRun('order-3')).runState).toBe('running');
    await page.click('#cancel');
    await page.locator('#run-state', { hasText: 'cancelled' }).waitFor();
    expect((await apiRun('order-3')).runState).toBe('cancelled');
    expect(await page.isDisabled('#pause')).toBe(true);
    expect(await page.isDisabled('#cancel')).toBe(true);
    await page.close();
  });

  it('follows run events live: a callback and a new run show up without a reload', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/ui/workflow`);
    await page.locator('#live-status.ok').waitFor();
    expect(await count(page, 'running')).toBe('2');
    expect(await count(page, 'cancelled')).toBe('1');
    // A reload would drop this marker.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

    const after = await api<ApiRun>('POST', `/runs/${runIds.get('order-1')}/callback/waiting`, { status: 'approved', object: { approvedBy: 'e2e' } });
    expect(after).toMatchObject({ status: 'approved', runState: 'completed' });
    await row(page, 'order-1').locator('.run-status', { hasText: 'approved' }).waitFor();
    expect(await row(page, 'order-1').locator('.state').textContent()).toBe('completed');
    await expect.poll(() => count(page, 'completed')).toBe('1');
    expect(await count(page, 'running')).toBe('1');

    await trigger('order-4', { n: 4 });
    await row(page, 'order-4').waitFor();
    await expect.poll(() => count(page, 'running')).toBe('2');
    expect(await page.locator('#count-total').textContent()).toBe('4');
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);

    mkdirSync(join(REPO_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(REPO_ROOT, 'test-results/workflow-console.png'), fullPage: true });
    await page.close();
  });

  it('pages through a workflow with more runs than a page by nextCursor, counting that workflow only', async () => {
    await api('POST', '/definitions', DEFINITION.replace('name: approval', 'name: batch'), 'application/yaml');
    const batch: string[] = [];
    for (let n = 0; n < PAGE_SIZE + 1; n++) batch.push((await api<{ runId: string }>('POST', '/workflows/batch/runs', { foreignId: `b-${n}` })).runId);
    const page = await browser.newPage();
    await page.goto(`${server.url}/ui/workflow?workflow=batch`);
    expect(await page.locator('#run-rows tr.run-row').count()).toBe(PAGE_SIZE);
    expect(await count(page, 'running')).toBe(String(PAGE_SIZE + 1));
    expect(await page.locator('#count-total').textContent()).toBe(String(PAGE_SIZE + 1));
    const first = await page.locator('#run-rows tr.run-row').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.runId));
    expect(new Set(first).size).toBe(PAGE_SIZE);

    expect(await page.isVisible('#next-page')).toBe(true);
    await page.click('#next-page');
    await page.waitForURL((u) => u.searchParams.has('cursor') && u.searchParams.get('workflow') === 'batch');
    const second = await page.locator('#run-rows tr.run-row').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.runId));
    // The two pages together are every run of the workflow, none twice.
    expect(second).toHaveLength(1);
    expect(new Set([...first, ...second])).toEqual(new Set(batch));
    expect(await page.isVisible('#next-page')).toBe(false);
    await page.click('text=← newest');
    await expect.poll(() => page.locator('#run-rows tr.run-row').count()).toBe(PAGE_SIZE);
    await page.close();
  });

  it('deletes a finished run\'s data only after the browser\'s confirm() is accepted', async () => {
    const before = await apiRun('order-1');
    expect(before.runState).toBe('completed');
    const page = await browser.newPage();
    const asked: string[] = [];
    let accept = false;
    page.on('dialog', (d) => {
      asked.push(d.message());
      void (accept ? d.accept() : d.dismiss());
    });
    await page.goto(`${server.url}/ui/workflow/runs/${runIds.get('order-1')}`);
    expect(await page.locator('#delete').textContent()).toBe('Delete data');
    expect(JSON.parse((await page.locator('#object').textContent()) ?? '')).toEqual(before.object);

    mkdirSync(join(REPO_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(REPO_ROOT, 'test-results/workflow-console-delete.png'), fullPage: true });

    // Dismissed: nothing is sent (sending disables the buttons at once, before the request).
    await page.click('#delete');
    expect(asked).toEqual([DELETE_CONFIRM]);
    expect(await page.isDisabled('#delete')).toBe(false);
    expect(await apiRun('order-1')).toEqual(before);

    accept = true;
    await page.click('#delete');
    await page.locator('#run-state', { hasText: 'dataDeleted' }).waitFor();
    expect(asked).toHaveLength(2);
    const after = await apiRun('order-1');
    expect(after.runState).toBe('dataDeleted');
    expect(after.status).toBe(before.status);
    expect(after.object).not.toEqual(before.object);
    // The page shows the scrubbed object the API now holds, and no longer offers the button.
    const shown = await page.locator('#object').textContent();
    expect(JSON.parse(shown ?? '')).toEqual(after.object);
    expect(shown).not.toContain('approvedBy');
    expect(await page.locator('#delete').count()).toBe(0);
    await page.close();
  });
  it('moves the diagram highlight live as a run goes forward and back, without reloading; nodes drawn apart', async () => {
    await api('POST', '/definitions', REVIEW, 'application/yaml');
    const { runId } = await api<{ runId: string }>('POST', '/workflows/review/runs', { foreignId: 'doc-1' });
    const page = await browser.newPage();
    await page.goto(`${server.url}/ui/workflow/runs/${runId}`);
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 7));
    // One drawn node per status plus the start marker, none overlapping another.
    expect(await page.locator('#diagram g.graph-node').count()).toBe(5);
    const boxes = await page.locator('#diagram g.graph-node').evaluateAll((gs) => gs.map((g) => g.getBoundingClientRect().toJSON() as DOMRect));
    for (const b of boxes) expect(b.width * b.height).toBeGreaterThan(0);
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i]!, boxes[j]!];
        expect(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top, `nodes ${i} and ${j} overlap`).toBe(true);
      }
    // Every edge is drawn with its arrowhead; the way back from review to draft is drawn as a back edge.
    expect(await page.locator('#diagram g.graph-edge path.line').count()).toBe(5);
    expect(await page.locator('#diagram g.graph-edge path.arrow').count()).toBe(5);
    expect(await edge(page, 'review', 'draft').getAttribute('class')).toContain('back');
    expect(await classesOf(page, 'draft')).toContain('current');

    await api('POST', `/runs/${runId}/callback/draft`, { status: 'review' });
    await expect.poll(() => classesOf(page, 'review')).toContain('current');
    expect(await classesOf(page, 'draft')).toEqual(expect.arrayContaining(['visited']));
    expect(await classesOf(page, 'draft')).not.toContain('current');
    expect(await edge(page, 'draft', 'review').getAttribute('class')).toContain('taken');
    expect(await page.locator('#run-status').textContent()).toBe('review');

    await api('POST', `/runs/${runId}/callback/review`, { status: 'draft' });
    await expect.poll(() => classesOf(page, 'draft')).toContain('current');
    expect(await edge(page, 'review', 'draft').getAttribute('class')).toContain('taken');
    expect(await page.locator('#timeline li').count()).toBe(3);

    await api('POST', `/runs/${runId}/callback/draft`, { status: 'review' });
    await expect.poll(() => classesOf(page, 'review')).toContain('current');
    await api('POST', `/runs/${runId}/callback/review`, { status: 'approved' });
    await expect.poll(() => classesOf(page, 'approved')).toEqual(expect.arrayContaining(['current', 'run-completed']));
    expect(await page.locator('#run-state').textContent()).toBe('completed');
    // The finished run now offers Delete data: the swapped-in controls work like the first ones.
    expect(await page.locator('#delete').count()).toBe(1);
    expect(await classesOf(page, 'expired')).not.toContain('visited');
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(7);

    mkdirSync(join(REPO_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(REPO_ROOT, 'test-results/workflow-console-diagram.png'), fullPage: true });
    await page.close();
  });

  it("colours a DAG run's steps by state and follows them live: done, running, skipped, pending, then failed", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const target = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      async fetch(req) {
        const path = new URL(req.url).pathname;
        if (path === '/slow') await gate;
        if (path === '/fail') return new Response('broken', { status: 500 });
        return Response.json({ ok: true });
      },
    });
    try {
      const base = `http://127.0.0.1:${target.port}`;
      await api('POST', '/definitions', {
        name: 'pipeline',
        steps: [
          { id: 'fetch', http: { url: `${base}/ok` } },
          { id: 'slow', needs: ['fetch'], http: { url: `${base}/slow` } },
          { id: 'extra', needs: ['fetch'], when: 'input.extra == true', http: { url: `${base}/ok` } },
          { id: 'broken', needs: ['fetch'], when: 'input.fail == true', http: { url: `${base}/fail` } },
          { id: 'publish', needs: ['slow'], http: { url: `${base}/ok` } },
        ],
      });
      const { runId } = await api<{ runId: string }>('POST', '/workflows/pipeline/runs', { foreignId: 'p-1', object: { extra: false, fail: false } });
      const page = await browser.newPage();
      await page.goto(`${server.url}/ui/workflow/runs/${runId}`);
      // 60 s: once in a full CI run (Dec 3, 09:58) the page had not shown these within 15 s while every test file ran at once.
      await expect.poll(async () => (await classesOf(page, 'slow')).includes('step-running') && (await classesOf(page, 'extra')).includes('step-skipped'), { timeout: 60_000 }).toBe(true);
      expect(await classesOf(page, 'fetch')).toContain('step-done');
      expect(await classesOf(page, 'publish')).toContain('step-pending');
      expect(await page.locator('#diagram g.graph-edge').count()).toBe(4);

      release();
      await expect.poll(() => classesOf(page, 'publish'), { timeout: 60_000 }).toContain('step-done');
      expect(await classesOf(page, 'slow')).toContain('step-done');
      expect(await classesOf(page, 'broken')).toContain('step-skipped');
      expect(await page.locator('#run-status').textContent()).toBe('completed');

      const failed = await api<{ runId: string }>('POST', '/workflows/pipeline/runs', { foreignId: 'p-2', object: { extra: false, fail: true } });
      await api('GET', `/runs/${failed.runId}/await?status=failed&timeout=15s`);
      await page.goto(`${server.url}/ui/workflow/runs/${failed.runId}`);
      expect(await classesOf(page, 'broken')).toContain('step-failed');
      expect(await classesOf(page, 'publish')).toContain('step-pending');
      mkdirSync(join(REPO_ROOT, 'test-results'), { recursive: true });
      await page.screenshot({ path: join(REPO_ROOT, 'test-results/workflow-console-dag.png'), fullPage: true });
      await page.close();
    } finally {
      release();
      await target.stop(true);
    }
  });

  it('lists every definition with its version, run counts and drawn diagram, reached from the workflow tabs and from a run', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/ui/workflow`);
    await page.click('#wf-tabs a:has-text("Definitions")');
    await page.waitForURL('**/ui/workflow/definitions');
    const names = await page.locator('section.definition').evaluateAll((ss) => ss.map((s) => (s as HTMLElement).dataset.workflow));
    expect(names).toEqual(['approval', 'batch', 'pipeline', 'review']);
    const approval = page.locator('#def-approval');
    expect(await approval.locator('.def-version').textContent()).toBe('v1');
    // approval: order-1 dataDeleted, order-2 running, order-3 cancelled, order-4 running.
    expect(await approval.locator('.def-total').textContent()).toBe('4');
    expect(await approval.locator('.wf-count[data-state="running"] b').textContent()).toBe('2');
    expect(await approval.locator('.wf-count[data-state="cancelled"] b').textContent()).toBe('1');
    expect(await approval.locator('svg.graph g.graph-node').count()).toBe(4);
    expect(await page.locator('#def-pipeline svg.graph g.graph-node.wf-step').count()).toBe(5);
    // A definition page shows no run, so nothing is highlighted.
    expect(await page.locator('section.definition g.graph-node.current').count()).toBe(0);

    // Re-applying bumps the version shown.
    await api('POST', '/definitions', DEFINITION, 'application/yaml');
    await page.reload();
    expect(await page.locator('#def-approval .def-version').textContent()).toBe('v2');

    // The count chip leads to those runs.
    await approval.locator('.wf-count[data-state="cancelled"]').click();
    await page.waitForURL((u) => u.searchParams.get('workflow') === 'approval' && u.searchParams.get('runState') === 'cancelled');
    await expect.poll(() => page.locator('#run-rows tr.run-row').count()).toBe(1);

    // From a run, its workflow's name leads to its definition.
    await page.goto(`${server.url}/ui/workflow/runs/${runIds.get('order-2')}`);
    await page.click('#facts a:has-text("approval")');
    await page.waitForURL('**/ui/workflow/definitions/approval');
    expect(await page.locator('section.definition').count()).toBe(1);
    expect(await page.locator('#def-approval svg.graph g.graph-node[data-node="waiting"]').count()).toBe(1);
    const missing = await page.goto(`${server.url}/ui/workflow/definitions/nope`);
    expect(missing?.status()).toBe(404);
    await page.close();
  });
});
