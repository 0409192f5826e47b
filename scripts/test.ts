/** The whole test suite in one command: type-check, module boundaries, circular imports, binary build, vitest. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const bun = process.execPath;

function step(name: string, cmd: string, args: string[]): void {
  const started = Date.now();
  console.log(`\n== ${name}: ${[cmd === bun ? 'bun' : cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    console.error(`== ${name} FAILED (exit ${r.status ?? r.signal}) after ${secs}s`);
    process.exit(r.status ?? 1);
  }
  console.log(`== ${name} ok (${secs}s)`);
}

const only = process.argv.slice(2);
step('services', 'bash', ['scripts/ensure-services.sh']);
step('typecheck', bun, ['x', 'tsc', '--noEmit', '-p', '.']);
step('module boundaries', bun, ['scripts/check-boundaries.ts']);
step('circular imports', bun, ['x', 'madge', '--circular', '--extensions', 'ts,tsx', '--ts-config', 'tsconfig.json', 'src']);
step('single binary', bun, ['build', '--compile', 'src/main.ts', '--outfile', 'dist/capstan']);
step('tests', bun, ['--bun', 'vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json', ...only]);

// One closing line in the plain 'N passed, N failed' form that CI reads.
const report = JSON.parse(readFileSync(resolve(root, 'test-results/vitest.json'), 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number };
console.log(`\ntests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${report.numPendingTests + report.numTodoTests} skipped`);
