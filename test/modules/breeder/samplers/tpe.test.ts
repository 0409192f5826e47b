import { describe, expect, it } from 'vitest';
import { createSampler } from '../../../../src/modules/breeder/samplers/index.ts';
import { iqrWidth } from '../../../../src/modules/breeder/samplers/parzen.ts';
import type { SamplingProblem, TrialRecord } from '../../../../src/modules/breeder/samplers/types.ts';

const box = (d: number): SamplingProblem => ({
  space: Object.fromEntries(Array.from({ length: d }, (_, i) => [`x${i}`, { type: 'float' as const, low: -5, high: 5, log: false }])),
  directions: ['minimize'],
});
const OPT = [1.5, -2, 0.5];
const dist = (p: Record<string, unknown>) => Math.sqrt(OPT.reduce((s, o, i) => s + ((p[`x${i}`] as number) - o) ** 2, 0));

/** Runs `n` trials of a sampler on f, sequentially; returns the history. */
function run(config: unknown, problem: SamplingProblem, f: (p: Record<string, unknown>) => number[] | null, n: number, constraints?: (p: Record<string, unknown>) => number[]): TrialRecord[] {
  const s = createSampler(config, problem);
  const trials: TrialRecord[] = [];
  for (let number = 0; number < n; number++) {
    const r = s.sample({ trials, number });
    if (r.kind !== 'params') throw new Error('exhausted');
    const v = f(r.params);
    trials.push(v === null ? { params: r.params, state: 'fail' } : { params: r.params, state: 'complete', values: v, constraints: constraints?.(r.params) });
  }
  return trials;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('TPE sampler', () => {
  it('concentrates near a known optimum: its trials 51-100 are closer to it than random search’s, and its best is far better, for every seed', () => {
    for (const seed of [1, 2, 3]) {
      const tpe = run({ sampler: 'tpe', seed }, box(3), (p) => [dist(p) ** 2], 100);
      const rnd = run({ sampler: 'random', seed }, box(3), (p) => [dist(p) ** 2], 100);
      expect(mean(tpe.slice(50).map((t) => dist(t.params)))).toBeLessThan(mean(rnd.slice(50).map((t) => dist(t.params))));
      // A ball of radius 1.5 holds 1.4% of the box: random search puts 0.7 of 50 trials there.
      expect(tpe.slice(50).filter((t) => dist(t.params) < 1.5).length).toBeGreaterThanOrEqual(10);
      expect(Math.min(...tpe.map((t) => dist(t.params)))).toBeLessThan(Math.min(...rnd.map((t) => dist(t.params))) / 5);
    }
  });

  it('iqr widths: 1.059 x min(IQR, sd) x (n + 1)^(-1/5) over the centres and the range’s middle, within [1 %, 50 %] of the range', () => {
    // Centres 0.2, 0.4 and the middle 0.5: IQR 0.15 (quartiles 0.3 and 0.45), sd 0.1528, so 1.059 x 0.15 x 3^(-1/5).
    expect(iqrWidth([0.2, 0.4], 0, 1)).toBeCloseTo(1.059 * 0.15 * 3 ** -0.2, 9);
    // Centres 2, 4 and the middle 0: quartiles 1 and 3 (IQR 2), sd 2.
    expect(iqrWidth([2, 4], -5, 5)).toBeCloseTo(1.059 * 2 * 3 ** -0.2, 9);
    expect(iqrWidth([0.5, 0.5, 0.5], 0, 1)).toBe(0.01);
    expect(iqrWidth([], -5, 5)).toBe(0.1);
  });

  it('the reference-like iqr widths win when the optimum is the range’s middle and lose when it is not (why they are not the default)', () => {
    const reference = { bandwidth: 'iqr', g_bandwidth: 'iqr' };
    const sphere = (shift: number) => (p: Record<string, unknown>) => [Array.from({ length: 10 }, (_, i) => ((p[`x${i}`] as number) - shift) ** 2).reduce((a, b) => a + b, 0)];
    const best = (options: object, shift: number) => mean([0, 1, 2].map((seed) => Math.min(...run({ sampler: 'tpe', seed, options }, box(10), sphere(shift), 100).map((t) => t.values![0]!))));
    expect(best(reference, 0)).toBeLessThan(best({}, 0) / 2);
    expect(best({}, 3.1)).toBeLessThan(best(reference, 3.1) / 2);
  });

  it('also works univariate with Optuna-style bandwidths, and for maximisation', () => {
    const cfg = { sampler: 'tpe', seed: 4, options: { multivariate: false, bandwidth: 'optuna', magic_clip_count: 'kernels', gamma: 0.1 } };
    const tpe = run(cfg, { ...box(3), directions: ['maximize'] }, (p) => [-(dist(p) ** 2)], 100).slice(50);
    const rnd = run({ sampler: 'random', seed: 4 }, box(3), (p) => [dist(p) ** 2], 100).slice(50);
    expect(mean(tpe.map((t) => dist(t.params)))).toBeLessThan(mean(rnd.map((t) => dist(t.params))) * 0.75);
  });

  it('learns which categorical choice is good and respects log and step spaces', () => {
    const problem: SamplingProblem = {
      space: {
        algo: { type: 'categorical', choices: ['a', 'b', 'c', 'd'] },
        lr: { type: 'float', low: 1e-5, high: 1, log: true },
        batch: { type: 'int', low: 8, high: 256, step: 8, log: false },
      },
      directions: ['minimize'],
    };
    const f = (p: Record<string, unknown>) => [(p.algo === 'c' ? 0 : 1) + (Math.log10(p.lr as number) + 3) ** 2 / 10 + Math.abs((p.batch as number) - 64) / 256];
    const trials = run({ sampler: 'tpe', seed: 9 }, problem, f, 80);
    const late = trials.slice(40);
    // Random search would pick 'c' a quarter of the time.
    expect(late.filter((t) => t.params.algo === 'c').length / late.length).toBeGreaterThan(0.4);
    for (const t of trials) {
      expect(((t.params.batch as number) - 8) % 8).toBe(0);
      expect(Number.isInteger(t.params.batch)).toBe(true);
      expect(t.params.lr as number).toBeGreaterThanOrEqual(1e-5);
      expect(t.params.lr as number).toBeLessThanOrEqual(1);
    }
    const lrLate = mean(late.map((t) => Math.abs(Math.log10(t.params.lr as number) + 3)));
    expect(lrLate).toBeLessThan(1.25); // random over 5 decades would average 1.3 decades from 1e-3 ... and much more often far
  });

  it('keeps away from where guardrails were violated, and never proposes from failed trials', () => {
    // The optimum of the value lies where a guardrail is violated (x0 > 0); the feasible optimum is at x0 = 0.
    const f = (p: Record<string, unknown>) => [((p.x0 as number) - 3) ** 2 + (p.x1 as number) ** 2];
    const viol = (p: Record<string, unknown>) => [Math.max(0, p.x0 as number)];
    const trials = run({ sampler: 'tpe', seed: 5 }, box(2), f, 80, viol);
    const unconstrained = run({ sampler: 'tpe', seed: 5 }, box(2), f, 80);
    const feasibleShare = (ts: TrialRecord[]) => ts.slice(40).filter((t) => (t.params.x0 as number) <= 0).length / 40;
    expect(feasibleShare(trials)).toBeGreaterThan(0.55);
    expect(feasibleShare(unconstrained)).toBeLessThan(0.35); // random search: 0.5
    const bestFeasible = Math.min(...trials.filter((t) => t.constraints![0] === 0).map((t) => t.values![0]!));
    expect(bestFeasible).toBeLessThan(9.5); // the feasible optimum is 9 at (0, 0)
    // Failures where x0 < 0 (the target breaks there): TPE moves to where trials succeed.
    const failing = run({ sampler: 'tpe', seed: 6 }, box(2), (p) => ((p.x0 as number) < 0 ? null : [Math.abs(p.x1 as number)]), 80);
    expect(failing.slice(40).filter((t) => t.state === 'fail').length).toBeLessThan(16); // random search: 20 of 40
  });

  it('gives parallel workers different proposals (constant liar) and the same proposal again after a restart', () => {
    const history = run({ sampler: 'tpe', seed: 2 }, box(3), (p) => [dist(p) ** 2], 30);
    const cfg = { sampler: 'tpe', seed: 2 };
    const worker = createSampler(cfg, box(3));
    const first = worker.sample({ trials: history, number: 30 });
    if (first.kind !== 'params') throw new Error('exhausted');
    const withRunning = [...history, { params: first.params, state: 'running' as const }];
    const second = worker.sample({ trials: withRunning, number: 31 });
    expect(second).not.toEqual(first);
    // Crash recovery: a fresh sampler, same trials and number, same answer (also after the cache saw other histories).
    expect(createSampler(cfg, box(3)).sample({ trials: withRunning, number: 31 })).toEqual(second);
    expect(createSampler(cfg, box(3)).sample({ trials: structuredClone(history), number: 30 })).toEqual(first);
  });

  it('proposes what a fresh sampler would while it keeps l(x) and g(x) over an unchanged history, and after the history changes', () => {
    const space: SamplingProblem = {
      space: { a: { type: 'float', low: -5, high: 5, log: false }, c: { type: 'int', low: 1, high: 64, log: false }, d: { type: 'categorical', choices: ['x', 'y', 'z'] } },
      directions: ['minimize'],
    };
    const f = (p: Record<string, unknown>) => [((p.a as number) - 1) ** 2 + ((p.c as number) - 20) ** 2 / 100 + (p.d === 'y' ? 0 : 1)];
    for (const multivariate of [true, false]) {
      const cfg = { sampler: 'tpe', seed: 7, options: { multivariate } };
      const history = run(cfg, space, f, 120);
      const kept = createSampler(cfg, space);
      // Same history object several times (l and g kept as they are), then a trial's values changed (both rebuilt or updated).
      for (let number = 120; number < 124; number++) expect(kept.sample({ trials: history, number })).toEqual(createSampler(cfg, space).sample({ trials: structuredClone(history), number }));
      const changed = history.map((t, i) => (i === 3 ? { ...t, values: [-100] } : t));
      expect(kept.sample({ trials: changed, number: 124 })).toEqual(createSampler(cfg, space).sample({ trials: structuredClone(changed), number: 124 }));
      const grown = [...changed, { params: { a: 1, c: 20, d: 'y' }, state: 'complete' as const, values: [0] }];
      expect(kept.sample({ trials: grown, number: 125 })).toEqual(createSampler(cfg, space).sample({ trials: structuredClone(grown), number: 125 }));
      expect(kept.sample({ trials: grown, number: 126 })).toEqual(createSampler(cfg, space).sample({ trials: structuredClone(grown), number: 126 }));
    }
  });

  it('uses cooperating breeders’ trials that fit the space and drops those that do not', () => {
    const good = Array.from({ length: 20 }, (_, i) => ({ params: { x0: 1.5 + (i % 5) * 0.01, x1: -2, x2: 0.5, other: 'ignored' }, state: 'complete' as const, values: [0.01 * i] }));
    const bad = Array.from({ length: 20 }, (_, i) => ({ params: { x0: -4, x1: 4, x2: -4 + i * 0.1 }, state: 'complete' as const, values: [100 + i] }));
    const misfit = Array.from({ length: 20 }, () => ({ params: { x0: 99, x1: 0, x2: 0 }, state: 'complete' as const, values: [-1e9] }));
    const missing = Array.from({ length: 20 }, () => ({ params: { x0: 4, x1: 4 }, state: 'complete' as const, values: [-1e9] }));
    const s = createSampler({ sampler: 'tpe', seed: 1 }, box(3));
    const clean = [...good.map((t) => ({ ...t, params: { x0: t.params.x0, x1: t.params.x1, x2: t.params.x2 } })), ...bad];
    for (let number = 0; number < 10; number++) {
      const mixed = s.sample({ trials: [...misfit, ...good, ...missing, ...bad], number });
      expect(mixed).toEqual(createSampler({ sampler: 'tpe', seed: 1 }, box(3)).sample({ trials: clean, number }));
    }
    // The cooperating trials count as history: 40 of them are past the 10 start-up trials, so the model is used.
    const fromModel = s.sample({ trials: clean, number: 0 });
    const fromRandom = createSampler({ sampler: 'random', seed: 1 }, box(3)).sample({ trials: [], number: 0 });
    expect(fromModel).not.toEqual(fromRandom);
  });

  it('optimises two objectives (multi-objective TPE) better than random', () => {
    const problem: SamplingProblem = { space: box(2).space, directions: ['minimize', 'minimize'] };
    const f = (p: Record<string, unknown>) => [((p.x0 as number) - 1) ** 2 + (p.x1 as number) ** 2, ((p.x0 as number) + 1) ** 2 + (p.x1 as number) ** 2];
    const sumBest = (trials: TrialRecord[]) => mean(trials.slice(40).map((t) => Math.abs(t.params.x1 as number)));
    // The front is x1 = 0, -1 <= x0 <= 1: late proposals should stay near x1 = 0.
    expect(sumBest(run({ sampler: 'tpe', seed: 3 }, problem, f, 80))).toBeLessThan(sumBest(run({ sampler: 'random', seed: 3 }, problem, f, 80)) / 2);
  });
});
