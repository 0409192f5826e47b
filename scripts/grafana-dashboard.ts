/** Writes deploy/grafana/capstan.json from deploy/grafana/dashboard.ts; `--check` exits 1 when the file is out of date. */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { renderDashboard } from '../deploy/grafana/dashboard.ts';

const file = resolve(import.meta.dirname, '../deploy/grafana/capstan.json');
const text = `${JSON.stringify(renderDashboard(), null, 2)}\n`;
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {}
  if (current !== text) {
    console.error(`${file} is out of date: run bun scripts/grafana-dashboard.ts`);
    process.exit(1);
  }
  console.log(`${file} is up to date`);
} else {
  writeFileSync(file, text);
  console.log(`wrote ${file}`);
}
