/** The whole test suite in one command: services, type-check, module boundaries, the API document's lint, circular imports, binary build, vitest. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const bun = process.execPath;

/** Runs one step with inherited output; returns its exit status. */
function run(name: string, cmd: string, args: string[]): number {
  const started = Date.now();
  console.log(`\n== ${name}: ${[cmd === bun ? 'bun' : cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env });
  const status = r.status ?? 1;
  console.log(`== ${name} ${status === 0 ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  return status;
}

/** A step whose failure stops the run. */
function step(name: string, cmd: string, args: string[]): void {
  const status = run(name, cmd, args);
  if (status !== 0) process.exit(status);
}

const only = process.argv.slice(2);
step('services', 'bash', ['scripts/ensure-services.sh']);
step('typecheck', bun, ['x', 'tsc', '--noEmit', '-p', '.']);
step('module boundaries', bun, ['scripts/check-boundaries.ts']);
step('openapi lint', bun, ['scripts/openapi-lint.ts']);
step('circular imports', bun, ['x', 'madge', '--circular', '--extensions', 'ts,tsx', '--ts-config', 'tsconfig.json', 'src']);
step('single binary', bun, ['build', '--compile', 'src/main.ts', '--outfile', 'dist/capstan']);

const reportPath = resolve(root, 'test-results/vitest.json');
rmSync(reportPath, { force: true });
const status = run('tests', bun, ['--bun', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportPath}`, ...only]);

// One closing line in the plain 'N passed, N failed' form that CI reads.
if (existsSync(reportPath)) {
  const r = JSON.parse(readFileSync(reportPath, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number };
  console.log(`\ntests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
}
process.exit(status);
