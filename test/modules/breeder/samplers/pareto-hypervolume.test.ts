import { describe, expect, it } from 'vitest';
import { crowdingDistances } from '../../../../src/modules/breeder/samplers/crowding.ts';
import { nonDominatedFronts } from '../../../../src/modules/breeder/samplers/dominance.ts';
import { Rng } from '../../../../src/modules/breeder/samplers/rng.ts';
import { bestTrial, hypervolume, paretoFront } from '../../../../src/modules/breeder/samplers/index.ts';
import type { TrialRecord } from '../../../../src/modules/breeder/samplers/types.ts';

describe('hypervolume', () => {
  it('matches hand-computed 2-D values', () => {
    // Staircase (1,3), (2,2), (3,1) against (4,4): 3·1 + 2·1 + 1·1 = 6 (strips of width 3, 2, 1).
    expect(hypervolume([[1, 3], [2, 2], [3, 1]], [4, 4])).toBeCloseTo(6, 12);
    // A dominated point and a duplicate change nothing; a point outside the reference box adds nothing.
    expect(hypervolume([[1, 3], [2, 2], [3, 1], [3, 3], [2, 2], [5, 0]], [4, 4])).toBeCloseTo(6, 12);
    expect(hypervolume([], [1, 1])).toBe(0);
    expect(hypervolume([[0.5, 0.5]], [1, 1])).toBeCloseTo(0.25, 12);
  });

  it('matches hand-computed 3-D and 4-D values', () => {
    // One box: 1·2·3.
    expect(hypervolume([[0, 0, 0]], [1, 2, 3])).toBeCloseTo(6, 12);
    // Two boxes in [0,2]^3: (0,0,1) gives 2·2·1 = 4, (1,1,0) gives 1·1·2 = 2, overlap (1..2)^2 × (1..2) = 1: 4 + 2 - 1 = 5.
    expect(hypervolume([[0, 0, 1], [1, 1, 0]], [2, 2, 2])).toBeCloseTo(5, 12);
    // The three unit-axis points in [0,2]^3: inclusion-exclusion 3·4 - 3·2 + 1 = 7.
    expect(hypervolume([[1, 0, 0], [0, 1, 0], [0, 0, 1]], [2, 2, 2])).toBeCloseTo(7, 12);
    // 4-D: (0,0,0,1) and (1,1,1,0) in [0,2]^4: 8 + 2 - 1 = 9.
    expect(hypervolume([[0, 0, 0, 1], [1, 1, 1, 0]], [2, 2, 2, 2])).toBeCloseTo(9, 12);
  });

  it('agrees with a Monte Carlo estimate on a random 3-D front', () => {
    const rng = new Rng(12345);
    const rand = () => rng.uniform();
    const pts = Array.from({ length: 30 }, () => [rand(), rand(), rand()]);
    const exact = hypervolume(pts, [1, 1, 1]);
    let inside = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const q = [rand(), rand(), rand()];
      if (pts.some((p) => p.every((v, k) => v <= q[k]!))) inside++;
    }
    expect(Math.abs(exact - inside / n)).toBeLessThan(0.005);
  });
});

describe('non-dominated sort and crowding distance', () => {
  it('ranks fronts and puts feasible points before infeasible ones by violation', () => {
    const pts = [
      { loss: [1, 4], violation: 0 },
      { loss: [2, 2], violation: 0 },
      { loss: [3, 3], violation: 0 },
      { loss: [0, 0], violation: 2 },
      { loss: [0, 0], violation: 1 },
    ];
    expect(nonDominatedFronts(pts)).toEqual([[0, 1], [2], [4], [3]]);
    expect(nonDominatedFronts(pts, false)).toEqual([[3, 4], [0, 1], [2]]);
  });

  it('gives boundary points infinite crowding and inner points the normalised cuboid side sum', () => {
    const d = crowdingDistances([[0, 4], [1, 2], [2, 1], [4, 0]]);
    expect(d[0]).toBe(Infinity);
    expect(d[3]).toBe(Infinity);
    expect(d[1]).toBeCloseTo(2 / 4 + 3 / 4, 12);
    expect(d[2]).toBeCloseTo(3 / 4 + 2 / 4, 12);
  });
});

describe('best trial and Pareto front', () => {
  const trials: TrialRecord[] = [
    { params: {}, state: 'complete', values: [5, 1] },
    { params: {}, state: 'complete', values: [3, 3] },
    { params: {}, state: 'complete', values: [1, 5] },
    { params: {}, state: 'complete', values: [4, 4] },
    { params: {}, state: 'fail', values: [0, 0] },
    { params: {}, state: 'complete', values: [0, 9], constraints: [0.5] },
    { params: {}, state: 'complete', values: [Number.NaN, 0] },
    { params: {}, state: 'running' },
    { params: {}, state: 'complete', values: [9, 9], constraints: [0, 0] },
  ];

  it('respects the direction and ignores failed, infeasible and broken trials', () => {
    expect(bestTrial(trials.map((t) => ({ ...t, values: t.values?.slice(0, 1) })), 'minimize')).toBe(2);
    expect(bestTrial(trials.map((t) => ({ ...t, values: t.values?.slice(0, 1) })), 'maximize')).toBe(8);
    expect(bestTrial([{ params: {}, state: 'fail' }], 'minimize')).toBeNull();
  });

  it('ranks trials of several objectives by the first value (the API\'s /best of a multi-objective breeder)', () => {
    expect(bestTrial(trials, 'minimize')).toBe(2);
    expect(bestTrial(trials, 'maximize')).toBe(8);
  });

  it('returns the feasible non-dominated trials for each combination of directions', () => {
    expect(paretoFront(trials, ['minimize', 'minimize'])).toEqual([0, 1, 2]);
    expect(paretoFront(trials, ['maximize', 'maximize'])).toEqual([8]);
    expect(paretoFront(trials, ['minimize', 'maximize'])).toEqual([2, 8]);
  });
});
