/** Drives the workflow console page in headless Chromium: runs table, counts, filters, the run page with its
 * timeline, object and graph, pause/resume/cancel/delete data through the buttons, and the table following SSE live. */
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
  const row = (page: Page, foreignId: string) => page.locator(`#run-rows tr[data-run-id="${runIds.get(foreignId)}"]`);

  beforeAll(async () => {
    [browser, server] = await Promise.all([chromium.launch({ executablePath: CHROMIUM, args: ARGS }), startServer({ args: ['--data-dir', join(tempDir(), 'wf-console')] })]);
    await api('POST', '/definitions', DEFINITION, 'application/yaml');
    // Markup in the object must come out as text on the run page.
    for (const n of [1, 2, 3]) await trigger(`order-${n}`, { n, lines: [{ sku: `sku-${n}`, qty: n }], note: '<img src=x onerror=alert(1)>' });
  }, 90_000);
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
    expect(await page.locator('#graph').textContent()).toContain('waiting --> approved');
    expect(await page.isDisabled('#resume')).toBe(true);
    // A running run's data cannot be deleted, so the page does not offer it.
    expect(await page.locator('#delete').count()).toBe(0);

    await page.click('#pause');
    await page.locator('#run-state', { hasText: 'paused' }).waitFor();
    expect((await apiRun('order-2')).runState).toBe('paused');
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
});
