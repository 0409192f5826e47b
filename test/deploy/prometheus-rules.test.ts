/** deploy/prometheus/alerts.yaml passes `promtool check rules`, and its unit tests (alerts.test.yaml) pass `promtool test rules`. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect, it } from 'vitest';
import { ALERTS_FILE, ruleExpressions } from '../helpers/promql-names.ts';

const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p));
const run = (...args: string[]) => spawnSync(promtool!, args, { cwd: dirname(ALERTS_FILE), encoding: 'utf8' });

it('promtool is here (CI installs it through scripts/ensure-services.sh)', () => {
  if (!promtool && !process.env.CI) return console.warn('promtool not installed (Debian package prometheus); the rule checks below are skipped');
  expect(promtool).toBeDefined();
});

it.skipIf(!promtool)('the alert rules are valid', () => {
  const r = run('check', 'rules', 'alerts.yaml');
  expect(r.status, r.stdout + r.stderr).toBe(0);
  expect(r.stdout).toContain(`SUCCESS: ${ruleExpressions(ALERTS_FILE).length} rules found`);
});

it.skipIf(!promtool)('every alert fires on series that should raise it and stays quiet on series that should not (promtool test rules)', () => {
  const r = run('test', 'rules', 'alerts.test.yaml');
  expect(r.status, r.stdout + r.stderr).toBe(0);
  expect(r.stdout).toContain('SUCCESS');
});

it('every alert has a unit test', async () => {
  const { readFileSync } = await import('node:fs');
  const { parse } = await import('yaml');
  const rules = (parse(readFileSync(ALERTS_FILE, 'utf8')) as { groups: { rules: { alert?: string }[] }[] }).groups.flatMap((g) => g.rules.map((r) => r.alert));
  const tests = parse(readFileSync(ALERTS_FILE.replace('alerts.yaml', 'alerts.test.yaml'), 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
  const firing = new Set(tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
  for (const alert of rules) expect(firing.has(alert!), `${alert} has a test where it fires`).toBe(true);
});
