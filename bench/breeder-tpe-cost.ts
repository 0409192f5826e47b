/**
 * `bun bench/breeder-tpe-cost.ts [--root DIR] [--rounds N]`: CPU time of one TPE sample at 1,000 complete trials
 * with 4 parameters (float, log float, int 1-64, categorical; the setup of bench/breeder-samplers.ts), and a digest
 * of the proposals, so that two versions of the sampler can be timed alternately in one run and shown to propose
 * the same. `--root` points at another checkout's folder holding `src/` (e.g. a `git archive` of main), so the
 * code of main and of a branch run in turn: `bun bench/breeder-tpe-cost.ts --compare /tmp/main-copy 5`.
 *
 * Two cases: `fixed` samples 300 times from the same 1,000 trials (what breeder-samplers.ts times: a sampler kept
 * by the worker), `growing` adds each proposal as a complete trial before the next sample (what a running breeder
 * does: 1,000 → 1,300 trials).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};

const compare = arg('--compare');
if (compare) {
  // Driver: runs the other root and this one alternately as child processes, so both see the same machine load.
  const times = Number(process.argv[process.argv.indexOf('--compare') + 2] ?? 5);
  const me = resolve(import.meta.dir, '..');
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  process.stdout.write(`load average at start ${load()}\n`);
  for (let r = 0; r < times; r++) {
    for (const [label, root] of [['before', resolve(compare)], ['after', me]] as const) {
      const p = Bun.spawnSync(['bun', join(me, 'bench/breeder-tpe-cost.ts'), '--root', root], { stderr: 'inherit' });
      process.stdout.write(`${label} ${p.stdout.toString().trim()}\n`);
    }
  }
  process.stdout.write(`load average at end ${load()}\n`);
  process.exit(0);
}

const root = resolve(arg('--root') ?? join(import.meta.dir, '..'));
const { createSampler } = await import(join(root, 'src/modules/breeder/samplers/index.ts'));
const rounds = Number(arg('--rounds') ?? 300);

type Params = Record<string, number | string>;
type Trial = { params: Params; state: 'complete'; values: number[] };
const space4 = {
  a: { type: 'float', low: -5, high: 5, log: false },
  b: { type: 'float', low: 1e-4, high: 1, log: true },
  c: { type: 'int', low: 1, high: 64, log: false },
  d: { type: 'categorical', choices: ['x', 'y', 'z'] },
};
const problem4 = { space: space4, directions: ['minimize'] };
const value = (p: Params) => {
  const x = [p.a as number, Math.log10(p.b as number), (p.c as number) / 10];
  return x.reduce((s, v) => s + v * v, 0) + (p.d === 'y' ? 0 : 1);
};
const startHistory = (): Trial[] => {
  const r = createSampler({ sampler: 'random', seed: 1 }, problem4);
  return Array.from({ length: 1000 }, (_, number) => {
    const params = r.sample({ trials: [], number }).params as Params;
    return { params, state: 'complete' as const, values: [value(params)] };
  });
};

const run = (grow: boolean) => {
  const history = startHistory();
  const s = createSampler({ sampler: 'tpe', seed: 1 }, problem4);
  const warm = startHistory();
  for (let i = 0; i < 30; i++) s.sample({ trials: warm, number: 5000 + i }); // JIT warm-up on other numbers
  const hash = createHash('sha256');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    const params = s.sample({ trials: history, number: 2000 + i }).params as Params;
    hash.update(JSON.stringify(params));
    if (grow) history.push({ params, state: 'complete', values: [value(params)] });
  }
  const cpu = process.cpuUsage(cpu0);
  return { cpuMs: +((cpu.user + cpu.system) / 1000 / rounds).toFixed(3), wallMs: +((performance.now() - t0) / rounds).toFixed(3), digest: hash.digest('hex').slice(0, 16) };
};

process.stdout.write(`${JSON.stringify({ fixed: run(false), growing: run(true) })}\n`);
