import { describe, expect, it } from 'vitest';
import { createSampler, hypervolume, paretoFront } from '../../../../src/modules/breeder/samplers/index.ts';
import type { SamplingProblem, TrialRecord } from '../../../../src/modules/breeder/samplers/types.ts';
import { zdt1, zdt1FrontHypervolume } from '../../../helpers/benchmark-functions.ts';

const unitBox = (d: number): SamplingProblem => ({
  space: Object.fromEntries(Array.from({ length: d }, (_, i) => [`x${i}`, { type: 'float' as const, low: 0, high: 1, log: false }])),
  directions: ['minimize', 'minimize'],
});
const xs = (p: Record<string, unknown>, d: number) => Array.from({ length: d }, (_, i) => p[`x${i}`] as number);

function run(config: unknown, problem: SamplingProblem, f: (p: Record<string, unknown>) => number[], n: number, constraints?: (p: Record<string, unknown>) => number[]): TrialRecord[] {
  const s = createSampler(config, problem);
  const trials: TrialRecord[] = [];
  for (let number = 0; number < n; number++) {
    const r = s.sample({ trials, number });
    if (r.kind !== 'params') throw new Error('exhausted');
    trials.push({ params: r.params, state: 'complete', values: f(r.params), constraints: constraints?.(r.params) });
  }
  return trials;
}

const frontHv = (trials: TrialRecord[], ref: number) => hypervolume(paretoFront(trials, ['minimize', 'minimize']).map((i) => trials[i]!.values as number[]), [ref, ref]);

describe('NSGA-II sampler', () => {
  it('approaches the ZDT1 front (10 variables, population 40, 4,000 trials): hypervolume ≥ 90% of the true front’s, far above random search', () => {
    const d = 10;
    const f = (p: Record<string, unknown>) => zdt1(xs(p, d));
    const nsga = run({ sampler: 'nsga2', seed: 1, options: { population_size: 40 } }, unitBox(d), f, 4000);
    const rnd = run({ sampler: 'random', seed: 1 }, unitBox(d), f, 4000);
    const truth = zdt1FrontHypervolume(1.1);
    expect(frontHv(nsga, 1.1) / truth).toBeGreaterThan(0.9);
    expect(frontHv(rnd, 1.1) / truth).toBeLessThan(0.8);
  });

  it('ranks by guardrail violations: children move into the feasible region', () => {
    const d = 4;
    // Feasible only when x0 ≥ 0.6; the unconstrained front spans x0 in [0, 1].
    const f = (p: Record<string, unknown>) => zdt1(xs(p, d));
    const viol = (p: Record<string, unknown>) => [Math.max(0, 0.6 - (p.x0 as number))];
    const trials = run({ sampler: 'nsga2', seed: 2, options: { population_size: 20 } }, unitBox(d), f, 600, viol);
    const late = trials.slice(400);
    expect(late.filter((t) => t.constraints![0] === 0).length / late.length).toBeGreaterThan(0.85);
    expect(paretoFront(trials, ['minimize', 'minimize']).every((i) => (trials[i]!.params.x0 as number) >= 0.6)).toBe(true);
  });

  it('handles categorical and stepped parameters, and rebuilds its generations from the trials alone', () => {
    const problem: SamplingProblem = {
      space: { c: { type: 'categorical', choices: ['a', 'b', 'c'] }, n: { type: 'int', low: 0, high: 10, step: 2, log: false }, x: { type: 'float', low: 0, high: 1, log: false } },
      directions: ['minimize', 'maximize'],
    };
    // The front: c = 'b', n = 10, x anywhere in [0, 1] (the second objective is maximised).
    const penalty = (p: Record<string, unknown>) => (p.c === 'b' ? 0 : 1);
    const f = (p: Record<string, unknown>) => [penalty(p) + (p.x as number), (p.n as number) / 10 - penalty(p) - (1 - (p.x as number))];
    const trials = run({ sampler: 'nsga2', seed: 3, options: { population_size: 10 } }, problem, f, 200);
    for (const t of trials) expect([0, 2, 4, 6, 8, 10]).toContain(t.params.n);
    expect(trials.slice(100).filter((t) => t.params.c === 'b').length).toBeGreaterThan(50); // random search: 33
    expect(trials.slice(100).filter((t) => t.params.n === 10).length).toBeGreaterThan(50); // random search: 17
    // Crash recovery: a fresh sampler given the same history proposes the same child.
    const warm = createSampler({ sampler: 'nsga2', seed: 3, options: { population_size: 10 } }, problem);
    warm.sample({ trials: trials.slice(0, 150), number: 150 });
    const a = warm.sample({ trials, number: 200 });
    const b = createSampler({ sampler: 'nsga2', seed: 3, options: { population_size: 10 } }, problem).sample({ trials: structuredClone(trials), number: 200 });
    expect(a).toEqual(b);
  });
});
