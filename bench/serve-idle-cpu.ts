/**
 * Idle CPU of a full embedded server (`bun src/main.ts serve`, every module, PGlite on disk, no external services):
 * CPU time (utime + stime from /proc/<pid>/stat, 10 ms resolution) over a window after a warm-up, in ms per second.
 * With `SERVE_IDLE_BASELINE=<checkout>` (e.g. `git archive <commit>` unpacked, node_modules linked) the same is
 * measured at the same time for that checkout, so both share the machine's load.
 * Usage: bun bench/serve-idle-cpu.ts [seconds] [warm-up seconds]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processCpuUs } from './lib/proc.ts';

const seconds = Number(process.argv[2] ?? 30);
const warmUpS = Number(process.argv[3] ?? 20);
const roots: [string, string][] = [['this checkout', join(import.meta.dir, '..')]];
if (process.env.SERVE_IDLE_BASELINE) roots.unshift(['baseline', process.env.SERVE_IDLE_BASELINE]);

/** Starts one server and resolves once it says where it serves. */
function serve(root: string): Promise<ChildProcess> {
  const env: Record<string, string | undefined> = {};
  // Embedded on purpose: no database, Redis or NATS from the caller's environment.
  for (const [k, v] of Object.entries(process.env)) if (!/^(CAPSTAN_|DATABASE_URL|REDIS_URL|NATS_URL)/.test(k)) env[k] = v;
  const child = spawn(process.execPath, [join(root, 'src/main.ts'), 'serve', '--port', '0', '--data-dir', mkdtempSync(join(tmpdir(), 'idle-cpu-'))], { cwd: root, env: { ...env, CAPSTAN_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/serving on http/.test(out)) resolve(child);
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`${root}: server exited with ${code}:\n${out}`)));
  });
}

const children: { label: string; child: ChildProcess }[] = [];
try {
  for (const [label, root] of roots) children.push({ label, child: await serve(root) });
  await Bun.sleep(warmUpS * 1000); // definitions loaded, roles taken, first polls made
  const before = children.map((c) => processCpuUs(c.child.pid!));
  const t0 = performance.now();
  await Bun.sleep(seconds * 1000);
  const wallS = (performance.now() - t0) / 1000;
  const after = children.map((c) => processCpuUs(c.child.pid!));
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`idle embedded server CPU over ${wallS.toFixed(0)} s after ${warmUpS} s (loadavg ${load}; shared machine, indicative)`);
  children.forEach((c, i) => console.log(`${c.label.padEnd(14)} ${((after[i]! - before[i]!) / 1000 / wallS).toFixed(1)} ms CPU/s`));
} finally {
  for (const c of children) c.child.kill('SIGTERM');
}
