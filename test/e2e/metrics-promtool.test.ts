/**
 * /metrics passes `promtool check metrics` after real work of every module (issue 7: it failed once a workflow run
 * had finished, because an idle server exports no samples of most series). `capstan serve` runs as a child process
 * with every module main.ts registers; each module's workload (test/helpers/metrics-workloads) drives its work
 * through the HTTP API and names the series that must now have samples.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../helpers/async.ts';
import { WORKLOADS, type WorkloadServer } from '../helpers/metrics-workloads/index.ts';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.ts';
import { jsonApi } from '../helpers/json-api.ts';
import { startFakeLlm, type FakeLlmServer } from '../../src/kernel/llm/fake/fake-server.ts';
import { dashboardExpressions } from '../../deploy/grafana/dashboard.ts';
import { ALERTS_FILE, declaredFamilies, isExported, metricNames, ruleExpressions } from '../helpers/promql-names.ts';

let server: ServerProcess;
let llm: FakeLlmServer;
const dir = tempDir('capstan-metrics-');
// The exposition after every workload ran; the dashboard check reads the same text.
let metricsText: string | undefined;
beforeAll(async () => {
  // The LLM modules (agents, cascades) need a provider: the fake OpenAI-compatible server, in this process.
  llm = startFakeLlm({ port: 0 });
  server = await startServer({
    args: ['--data-dir', join(dir, 'data')],
    env: {
      CAPSTAN_LLM__PROVIDERS__FAKE__BASE_URL: `${llm.url}/v1`,
      CAPSTAN_LLM__PROVIDERS__FAKE__PRICES: JSON.stringify({ '*': { input: 1, output: 2 } }),
      CAPSTAN_MODULES__AGENTS__WORKTREES_DIR: join(dir, 'worktrees'),
      CAPSTAN_MODULES__AGENTS__ARTIFACTS_DIR: join(dir, 'artifacts'),
    },
    timeoutMs: 180_000,
  });
}, 200_000);
afterAll(async () => {
  await server?.stop();
  await llm?.stop();
});

const client = (url: string): WorkloadServer => ({ url, api: jsonApi(`${url}/api/v1`), eventually, llm, dir });

it('passes `promtool check metrics` after every module has done real work', async () => {
  const names: string[] = [];
  for (const w of WORKLOADS) names.push(...(await w.run(client(server.url))));
  const text = await (await fetch(`${server.url}/metrics`)).text();
  metricsText = text;
  // Each workload's series has samples: the check below covers them, not only their HELP and TYPE lines.
  for (const name of names) expect(text, name).toMatch(new RegExp(`^${name}(_bucket|_count|_sum)?(\\{[^}]*\\})? [0-9.e+-]+$`, 'm'));
  const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
  if (!promtool && !process.env.CI) return console.warn('promtool not installed (Debian package prometheus); skipping the format check');
  expect(promtool, 'promtool is required in CI (scripts/ensure-services.sh installs it)').toBeDefined();
  const r = spawnSync(promtool!, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  expect(r.stdout + r.stderr).toBe('');
  expect(r.status).toBe(0);
}, 400_000);

it('every metric a Grafana panel or an alert rule names is on /metrics after real work', async () => {
  const text = metricsText ?? (await (await fetch(`${server.url}/metrics`)).text());
  const families = declaredFamilies(text);
  const exprs = [...dashboardExpressions(), ...ruleExpressions(ALERTS_FILE)];
  const names = new Set(exprs.flatMap(metricNames));
  // The dashboard and the rules between them cover every kernel area, so this set is far from empty.
  expect(names.size).toBeGreaterThan(20);
  const missing = [...names].filter((n) => !isExported(n, families));
  expect(missing, `named by a panel or rule but not exported: ${missing.join(', ')}`).toEqual([]);
});
