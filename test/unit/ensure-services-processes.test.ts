/**
 * scripts/ensure-services.sh stops the Prometheus its package install started, by pid, and never one that ran
 * before (it ran `pkill -x prometheus`, which killed the user's own). A fake `prometheus` (sleep under that name)
 * stands in for both; the install is a command that starts one in the background, as the package's daemon does.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REPO_ROOT, tempDir } from '../helpers/server-process.ts';

const dir = tempDir('capstan-procs-');
const fake = join(dir, 'prometheus');
symlinkSync(spawnSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).stdout.trim(), fake);
const started: number[] = [];
afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Running, and not a zombie waiting for its parent. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

it("stops only the prometheus that appeared during the install, and passes the install's exit status on", () => {
  const users = spawn(fake, ['300'], { stdio: 'ignore', detached: true });
  started.push(users.pid!);
  const newPidFile = join(dir, 'new.pid');
  // As a package's init script does, the install returns only once its daemon runs under its own name: without the
  // wait, the backgrounded child may still be a forked bash (not yet exec'd) when the install returns, and pgrep
  // cannot see it yet (CI saw this once under load).
  const install = `${fake} 300 >/dev/null 2>&1 & p=$!; echo $p > ${newPidFile}; until [ \"$(cat /proc/$p/comm)\" = prometheus ]; do sleep 0.01; done; exit 7`;
  const r = spawnSync('bash', ['-c', `. ${join(REPO_ROOT, 'scripts/lib/new-processes.sh')}; run_then_stop_new prometheus bash -c '${install}'`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(7);
  const installed = Number(readFileSync(newPidFile, 'utf8'));
  started.push(installed);
  const deadline = Date.now() + 5_000;
  while (running(installed) && Date.now() < deadline) spawnSync('sleep', ['0.05']);
  expect(running(installed)).toBe(false);
  expect(running(users.pid!)).toBe(true);
});

it('ensure-services.sh stops processes only that way, never by name', () => {
  const script = readFileSync(join(REPO_ROOT, 'scripts/ensure-services.sh'), 'utf8');
  expect(script).not.toMatch(/\b(pkill|killall)\b/);
  // Both daemons a package install may start (Prometheus and sshd) are stopped that way.
  expect(script).toMatch(/run_then_stop_new prometheus run_then_stop_new sshd install_packages/);
});
