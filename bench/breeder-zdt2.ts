/**
 * `bun bench/breeder-zdt2.ts [OPTIONS_JSON] [SEEDS] [EVALUATIONS] [zdt1|zdt2]`: NSGA-II on ZDT2 (or ZDT1; 30 variables, population 100)
 * with the given sampler options, one line per seed: the hypervolume of the front found against (1.1, 1.1) as a
 * fraction of the true front's, the front's size and the range of f1 it covers (a front that lost its far end shows
 * as a short range), and the median over the front of g = 1 + 9·mean(x1..x29) (1 on the true front: how far the front
 * still is from convergence). E.g. `bun bench/breeder-zdt2.ts '{"eta_m":5}' 0,1,2 10000`.
 */
import { hypervolume, paretoFront } from '../src/modules/breeder/samplers/index.ts';
import { zdt1, zdt1FrontHypervolume, zdt2, zdt2FrontHypervolume } from '../test/helpers/benchmark-functions.ts';
import { optimize } from './lib/sampler-loop.ts';
const space = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`x${i}`, { type: 'float' as const, low: 0, high: 1, log: false }]));
const vec = (p: Record<string, unknown>) => Array.from({ length: 30 }, (_, i) => p[`x${i}`] as number);
const opts = JSON.parse(process.argv[2] ?? '{}');
const seeds = (process.argv[3] ?? '0,1,2').split(',').map(Number);
const problem = process.argv[5] ?? 'zdt2';
const [f, truth] = problem === 'zdt1' ? [zdt1, zdt1FrontHypervolume(1.1)] : [zdt2, zdt2FrontHypervolume(1.1)];
for (const seed of seeds) {
  const t0 = Date.now();
  const trials = optimize({ sampler: 'nsga2', seed, options: { population_size: 100, ...opts } }, space, ['minimize', 'minimize'], (p) => f(vec(p)), Number(process.argv[4] ?? 10_000));
  const frontTrials = paretoFront(trials, ['minimize', 'minimize']).map((i: number) => trials[i]!);
  const front = frontTrials.map((t) => t.values!);
  const gs = frontTrials.map((t) => 1 + (9 * vec(t.params).slice(1).reduce((a, b) => a + b, 0)) / 29).sort((a, b) => a - b);
  const hv = hypervolume(front, [1.1, 1.1]) / truth;
  const f1s = front.map((v) => v[0]!);
  console.log(JSON.stringify({ problem, opts, seed, evals: process.argv[4] ?? 10000, hv: +hv.toFixed(4), front: front.length, f1range: [Math.min(...f1s).toFixed(3), Math.max(...f1s).toFixed(3)], gMedian: +gs[gs.length >> 1]!.toFixed(4), s: (Date.now() - t0) / 1000 }));
}
