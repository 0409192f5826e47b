/**
 * `bun run test:image`: the container tests. Installs Podman if missing (skips, exit 0, only where it cannot be
 * installed), makes the Debian base with debootstrap (cached), builds the image with --pull=never, runs
 * test/image/ against it (embedded and distributed), then removes the test's tag. Prints the time of each step.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBaseImage } from './image/base-image.ts';
import { buildImage, REPO_ROOT } from './image/build.ts';
import { baseImageName } from './image/containerfile.ts';
import { containersConf, ensurePodman, podmanSync } from './image/podman.ts';

const log = (line: string) => console.log(`test:image: ${line}`);
const times: string[] = [];
async function timed<T>(name: string, fn: () => Promise<T> | T): Promise<T> {
  const started = Date.now();
  const value = await fn();
  times.push(`${name} ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return value;
}

const skip = await timed('podman', () => ensurePodman(log));
if (skip) {
  log(`SKIPPED: ${skip}`);
  console.log('image: 0 passed, 0 failed, 1 skipped');
  process.exit(0);
}

const base = baseImageName();
const how = await timed('base', () => ensureBaseImage(base, log));
log(`base ${base}: ${how === 'present' ? 'already in Podman' : how === 'imported' ? 'imported from the cached debootstrap' : 'made with debootstrap'}`);

const tag = `localhost/capstan:test-${Date.now().toString(36)}-${process.pid}`;
log(`building ${tag}`);
const built = await timed('build', () => buildImage(tag));
const GOAL_BYTES = 200e6;
log(`built in ${built.seconds.toFixed(0)} s; image size ${(built.sizeBytes / 1e6).toFixed(0)} MB (goal: at most ${GOAL_BYTES / 1e6} MB)`);
// A warning, not a failure: a module that makes the binary bigger should not block everyone else's work.
if (built.sizeBytes > GOAL_BYTES) log(`WARNING: the image is over its ${GOAL_BYTES / 1e6} MB goal`);

const reportPath = join(REPO_ROOT, 'test-results/image-vitest.json');
rmSync(reportPath, { force: true });
const tests = await timed('tests', () =>
  spawnSync(process.execPath, ['--bun', 'vitest', 'run', '--config', 'vitest.image.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${reportPath}`, ...process.argv.slice(2)], {
    cwd: REPO_ROOT,
    stdio: 'inherit',
    env: { ...process.env, CAPSTAN_TEST_IMAGE: tag, CONTAINERS_CONF: containersConf() },
  }),
);

// The layers stay in Podman's cache for the next build; only this run's name goes, and day-old leftovers.
podmanSync(['rmi', tag]);
podmanSync(['image', 'prune', '-f', '--filter', 'until=24h']);

log(`times: ${times.join(', ')}; image ${(built.sizeBytes / 1e6).toFixed(0)} MB`);
if (existsSync(reportPath)) {
  const r = JSON.parse(readFileSync(reportPath, 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; numTodoTests: number };
  console.log(`image: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
}
process.exit(tests.status ?? 1);
