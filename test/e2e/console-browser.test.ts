/** Drives the console in headless Chromium: overview, live event stream with a pattern (and its retry), and the token login. */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/kernel/http/auth.ts';
import { REPO_ROOT, startServer, tempDir, type ServerProcess } from '../helpers/server-process.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is required in CI (scripts/ensure-services.sh installs Debian's chromium)`);
if (!haveChromium) console.warn(`${CHROMIUM} not installed: skipping the console browser test (apt-get install chromium)`);

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe.skipIf(!haveChromium)('console in a browser', () => {
  let browser: Browser;
  let open: ServerProcess;
  let locked: ServerProcess;
  beforeAll(async () => {
    [browser, open, locked] = await Promise.all([
      chromium.launch({ executablePath: CHROMIUM, args: ARGS }),
      startServer({ args: ['--data-dir', join(tempDir(), 'open')] }),
      startServer({ args: ['--data-dir', join(tempDir(), 'locked')], env: { CAPSTAN_AUTH__TOKENS: `[{name: ops, sha256: ${hashToken('right-token')}, scopes: [admin]}]` } }),
    ]);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await open?.stop();
    await locked?.stop();
  });

  const publish = (s: ServerProcess, type: string, data: unknown) => fetch(`${s.url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type, data }) });

  it('shows dependencies and streams live events filtered by the pattern', async () => {
    const page = await browser.newPage();
    await page.goto(`${open.url}/ui`);
    const deps = page.locator('#deps tr');
    await expect.poll(() => deps.count()).toBe(4);
    for (const name of ['database', 'queue', 'bus', 'kv']) await expect.poll(() => page.locator('#deps tr', { hasText: name }).locator('.ok').count()).toBe(1);
    await page.locator('#stream-status.ok').waitFor();

    expect((await publish(open, 'test.console.ping', { n: 1 })).status).toBe(202);
    await page.locator('#event-rows tr', { hasText: 'test.console.ping' }).waitFor();

    await page.fill('#pattern', 'other.>');
    await page.click('#pattern-form button');
    await page.locator('#stream-status.ok', { hasText: 'other.>' }).waitFor();
    await publish(open, 'test.console.x', { n: 2 });
    await publish(open, 'other.y.z', { n: 3 });
    await page.locator('#event-rows tr', { hasText: 'other.y.z' }).waitFor();
    expect(await page.locator('#event-rows tr', { hasText: 'test.console.x' }).count()).toBe(0);

    // The panel keeps the newest 200 rows, newest first.
    for (let n = 0; n < 205; n++) expect((await publish(open, 'other.cap.tick', { n })).status).toBe(202);
    await page.locator('#event-rows tr', { hasText: '{"n":204}' }).waitFor();
    expect(await page.locator('#event-rows tr').count()).toBe(200);
    expect(await page.locator('#event-rows tr').first().textContent()).toContain('{"n":204}');
    expect(await page.locator('#event-rows tr').last().textContent()).toContain('{"n":5}');

    mkdirSync(join(REPO_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(REPO_ROOT, 'test-results/console.png'), fullPage: true });
    await page.close();
  });

  it('retries a refused event stream with backoff (connectEvents) and then streams', async () => {
    const page = await browser.newPage();
    // The browser gives up on an EventSource answered with an error status; the page's helper must retry it.
    const seen: number[] = [];
    await page.route('**/api/v1/events?*', (route) => {
      seen.push(seen.length);
      return seen.length === 1 ? route.fulfill({ status: 503, contentType: 'application/problem+json', body: '{}' }) : route.continue();
    });
    await page.goto(`${open.url}/ui`);
    await page.locator('#stream-status.bad', { hasText: 'disconnected' }).waitFor();
    await page.locator('#stream-status.ok', { hasText: 'connected' }).waitFor();
    expect(seen).toHaveLength(2);
    expect((await publish(open, 'test.console.retry', { n: 1 })).status).toBe(202);
    await page.locator('#event-rows tr', { hasText: 'test.console.retry' }).waitFor();
    await page.close();
  });

  it('asks for a token when auth is on, refuses a wrong one, accepts the right one', async () => {
    const page = await browser.newPage();
    await page.goto(`${locked.url}/ui`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await page.fill('input[name=token]', 'wrong-token');
    const [refused] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/ui/login') && r.request().method() === 'POST'), page.click('main form button')]);
    expect(refused.status()).toBe(401);
    await page.locator('#login-error').waitFor();
    expect(await page.locator('#deps').count()).toBe(0);
    await page.fill('input[name=token]', 'right-token');
    await page.click('main form button');
    await page.locator('#deps tr').first().waitFor();
    expect(new URL(page.url()).pathname).toBe('/ui');
    await page.locator('#stream-status.ok').waitFor();
    // The session cookie is not readable by page scripts.
    expect(await page.evaluate(() => document.cookie)).not.toContain('capstan_token');

    await page.click('header form button');
    await page.locator('input[name=token]').waitFor();
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await page.goto(`${locked.url}/ui`);
    expect(new URL(page.url()).pathname).toBe('/ui/login');
    await page.close();
  });
});
