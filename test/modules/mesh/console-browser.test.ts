/**
 * /ui/mesh in headless Chromium over a real distributed server and two `capstan agent` processes: nodes by site with
 * their state, the workload's slot with holder, token, replica state and lease age; then SIGKILL of the holder's agent
 * and the page following it live (mesh events over SSE, no reload): the slot shows the standby with a larger token.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../../src/kernel/boot/serve.ts';
import { loadConfig } from '../../../src/kernel/config/load.ts';
import { createMeshModule } from '../../../src/modules/mesh/index.ts';
import { freePort } from '../../helpers/child-services.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../../helpers/env.ts';
import { fixtureWorkload, meshKv, startAgent, type AgentProcess } from '../../helpers/mesh.ts';
import { createTestDatabase } from '../../helpers/postgres.ts';
import { REPO_ROOT } from '../../helpers/server-process.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is required in CI (scripts/ensure-services.sh installs Debian's chromium)`);
if (!haveChromium) console.warn(`${CHROMIUM} not installed: skipping the mesh console browser test (apt-get install chromium)`);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

describe.skipIf(!haveChromium)('mesh console in a browser', () => {
  const prefix = uniqueName('mui').toLowerCase();
  const agents: AgentProcess[] = [];
  let browser: Browser;
  let server: RunningServer;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const ports: Record<string, number> = {};

  beforeAll(async () => {
    db = await createTestDatabase('meshui');
    const modules = [createMeshModule()];
    const cfg = loadConfig(modules, { env: { DATABASE_URL: db.url, REDIS_URL, NATS_URL }, flags: { 'server.port': 0, prefix, 'auth.enabled': false, 'log.level': 'silent' } });
    [server, browser] = await Promise.all([startServer(cfg, modules, 'test'), chromium.launch({ executablePath: CHROMIUM, args: ARGS })]);
    for (const n of ['n1', 'n2']) ports[n] = await freePort();
    agents.push(await startAgent({ node: 'n1', site: 'a', labels: `port=${ports.n1},cost=0.1`, natsUrl: NATS_URL, prefix }));
    agents.push(await startAgent({ node: 'n2', site: 'b', labels: `port=${ports.n2}`, natsUrl: NATS_URL, prefix }));
  }, 180_000);
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
    await browser?.close();
    await server?.stop();
    const { store } = await meshKv(NATS_URL, prefix);
    await store.destroyAll();
    await store.close();
    await db?.drop();
  });

  it('shows nodes by site and the workload\'s holder and token, and follows a failover live', async () => {
    const res = await fetch(`${server.url}/api/v1/mesh/workloads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fixtureWorkload('db', { kind: 'failover', sites: ['a', 'b'] })) });
    expect(res.status).toBeLessThan(300);

    const page = await browser.newPage();
    await page.goto(`${server.url}/ui/mesh`);
    await page.locator('body[data-live=open]').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('table.nodes[data-site=a] tr[data-node=n1] [data-field=state]').textContent(), { timeout: 30_000 }).toBe('alive');
    expect(await page.locator('table.nodes[data-site=b] tr[data-node=n2] [data-field=state]').textContent()).toBe('alive');
    expect(await page.locator('table.nodes[data-site=a] tr[data-node=n1]').textContent()).toContain('cost=0.1');

    const slot = page.locator('tr[data-slot="db.0"]');
    await expect.poll(() => slot.locator('[data-field=replica]').textContent(), { timeout: 60_000 }).toMatch(/^healthy/);
    expect(await slot.locator('[data-field=holder]').textContent()).toBe('n1');
    const firstToken = Number(await slot.locator('[data-field=token]').textContent());
    expect(firstToken).toBeGreaterThan(0);
    expect(await page.locator('#leader').textContent()).toMatch(/leader: n[12]/);

    // Live, not reloaded: a marker set on this document survives the update.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await agents[0]!.stop('SIGKILL');
    await expect.poll(() => page.locator('tr[data-slot="db.0"] [data-field=holder]').textContent(), { timeout: 60_000 }).toBe('n2');
    await expect.poll(() => page.locator('tr[data-slot="db.0"] [data-field=replica]').textContent(), { timeout: 30_000 }).toMatch(/^healthy/);
    expect(Number(await page.locator('tr[data-slot="db.0"] [data-field=token]').textContent())).toBeGreaterThan(firstToken);
    await expect.poll(() => page.locator('tr[data-node=n1] [data-field=state]').textContent(), { timeout: 30_000 }).toMatch(/suspect|dead/);
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);

    mkdirSync(join(REPO_ROOT, 'test-results'), { recursive: true });
    await page.screenshot({ path: join(REPO_ROOT, 'test-results/mesh-console.png'), fullPage: true });
    await page.close();
  }, 240_000);
});
