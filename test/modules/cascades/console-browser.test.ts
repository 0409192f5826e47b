/**
 * /ui/cascades in headless Chromium (playwright-core, Debian's chromium) over an embedded server and the fake LLM as a
 * child process: a soundings session's page shows every attempt with the tool calls that attempt made (name, arguments,
 * result), under the attempt and not under another one, with the winner marked.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../../src/kernel/boot/serve.ts';
import { fakeLlmForFile } from '../../contract/llm-fake.ts';
import { sessionIn, startCascadesServer } from '../../helpers/cascades-server.ts';
import type { JsonApi } from '../../helpers/json-api.ts';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is required in CI (scripts/ensure-services.sh installs Debian's chromium)`);
if (!haveChromium) console.warn(`${CHROMIUM} not installed: skipping the cascades console browser test (apt-get install chromium)`);
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const fake = fakeLlmForFile();

describe.skipIf(!haveChromium)('cascades console in a browser', () => {
  let server: RunningServer;
  let api: JsonApi;
  let browser: Browser;

  beforeAll(async () => {
    const [started, launched] = await Promise.all([startCascadesServer(fake.baseUrl), chromium.launch({ executablePath: CHROMIUM, args: ARGS })]);
    ({ server, api } = started);
    browser = launched;
  }, 180_000); // a fresh PGlite (initdb + migrations) takes long on a loaded machine
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('a soundings session\'s page lists each attempt\'s tool calls under that attempt', async () => {
    const sounding = (i: string) => ({ header: { 'x-capstan-sounding': i } });
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [
        { match: sounding('0'), toolCalls: [{ name: 'set_state', arguments: { key: 'colour', value: 'red' } }] },
        { match: sounding('0'), text: 'red it is' },
        { match: sounding('1'), toolCalls: [{ name: 'set_state', arguments: { key: 'colour', value: 'blue' } }] },
        { match: sounding('1'), toolCalls: [{ name: 'set_state', arguments: { key: 'shade', value: 'navy' } }] },
        { match: sounding('1'), text: 'navy blue it is' },
        { match: sounding('evaluator'), toolCalls: [{ name: 'pick_winner', arguments: { index: 1, reason: 'calmer' } }] },
      ],
    });
    const def = await api('POST', '/definitions', 'cascade_id: painter\nmodel: fake/painter\nphases:\n  - name: pick\n    instructions: "Pick a colour"\n    tools: [set_state]\n    soundings: { factor: 2, evaluator: "Pick the calmer colour" }\n', 'application/yaml');
    expect(def.status, JSON.stringify(def.body)).toBeLessThan(300);
    const started = await api('POST', '/definitions/painter/runs', { inputs: {} });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.sessionId as string;
    const s = await sessionIn(api, id, ['completed', 'error'], 30_000);
    expect(s.status, s.error).toBe('completed');

    // The API answer the page is made from: each tool row names its attempt.
    const logs = (await api('GET', `/sessions/${id}/logs`)).body.items as Record<string, any>[];
    // Attempts run in parallel, so their rows interleave: compare as a set.
    const toolRows = logs.filter((l) => l.kind === 'tool').map((l) => `${l.soundingIndex} ${l.content.name} ${l.content.arguments.value}`);
    expect(toolRows.sort()).toEqual(['0 set_state red', '1 set_state blue', '1 set_state navy']);

    const page = await browser.newPage();
    try {
      const res = await page.goto(`${server.url}/ui/cascades/sessions/${encodeURIComponent(id)}`);
      expect(res?.status()).toBe(200);
      const attempt = (i: number) => page.locator(`ul.soundings > li[data-sounding="${i}"]`);
      const calls = (i: number) => attempt(i).locator('ol.tool-calls > li');
      expect(await calls(0).allTextContents()).toEqual([expect.stringMatching(/^set_state\(.*"value":"red".*\) → .+/)]);
      const winnerCalls = await calls(1).allTextContents();
      expect(winnerCalls).toHaveLength(2);
      expect(winnerCalls[0]).toMatch(/^set_state\(.*"value":"blue".*\)/);
      expect(winnerCalls[1]).toMatch(/^set_state\(.*"value":"navy".*\)/);
      expect(await attempt(1).textContent()).toContain('★ winner');
      expect(await attempt(0).textContent()).not.toContain('★ winner');
      expect(await attempt(0).textContent()).not.toContain('navy');
      expect(await calls(0).first().getAttribute('data-tool')).toBe('set_state');
    } finally {
      await page.close();
    }
  }, 120_000);
});
