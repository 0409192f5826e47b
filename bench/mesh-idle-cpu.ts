/**
 * Idle cost of `capstan agent` (issue 12), the agent and its watchdog child together: two agents per mesh, no workloads, on the real NATS. CPU time is read
 * from /proc/<pid>/stat (utime + stime) over a window after a warm-up. With `MESH_IDLE_BASELINE=<repo root>` the
 * same is measured at the same time for that checkout (e.g. /work/main before a change), so both share the load.
 * Usage: bun bench/mesh-idle-cpu.ts [seconds]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NATS_URL, uniqueName } from '../test/helpers/env.ts';

const seconds = Number(process.argv[2] ?? 60);
const TICKS = 100; // USER_HZ on Linux
const roots: [string, string][] = [['this checkout', join(import.meta.dir, '..')]];
if (process.env.MESH_IDLE_BASELINE) roots.unshift(['baseline', process.env.MESH_IDLE_BASELINE]);

function cpuTicks(pid: number): number {
  // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** The process and its descendants (the agent's watchdog is its child), read from /proc/<pid>/task/<pid>/children. */
function treeTicks(pid: number): number {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // Gone already: counted as nothing more.
  }
  return cpuTicks(pid) + kids.reduce((sum, k) => sum + treeTicks(k), 0);
}

const children: { label: string; node: string; child: ChildProcess }[] = [];
for (const [label, root] of roots) {
  const prefix = uniqueName('midle');
  for (const node of ['n1', 'n2']) {
    const env = { ...process.env, NATS_URL, CAPSTAN_PREFIX: prefix, CAPSTAN_LOG_LEVEL: 'warn' };
    const child = spawn(process.execPath, [join(root, 'src/main.ts'), 'agent', '--node-id', node, '--site', 'a'], { cwd: root, env, stdio: 'ignore' });
    children.push({ label, node, child });
  }
}
try {
  await Bun.sleep(8_000); // join, leader election, first placements
  const before = children.map((c) => treeTicks(c.child.pid!));
  const t0 = performance.now();
  await Bun.sleep(seconds * 1000);
  const wallS = (performance.now() - t0) / 1000;
  const after = children.map((c) => treeTicks(c.child.pid!));
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`idle agent CPU over ${wallS.toFixed(0)} s (loadavg ${load}; shared machine, noisy)`);
  children.forEach((c, i) => console.log(`${c.label.padEnd(14)} ${c.node}  ${(((after[i]! - before[i]!) / TICKS / wallS) * 100).toFixed(2)} %`));
} finally {
  for (const c of children) c.child.kill('SIGTERM');
}
