/** The console's plot data: the best-so-far staircase respects direction and guardrails; the scatter marks the Pareto front. */
import { describe, expect, it } from 'vitest';
import type { TrialRow } from '../../../../src/modules/breeder/store/index.ts';
import { objectiveSeries, paretoScatter } from '../../../../src/modules/breeder/ui/plot-data.ts';

function trial(number: number, values: number[] | null, state: TrialRow['state'] = 'complete', constraints: number[] | null = null): TrialRow {
  return { breederId: 'b', number, state, params: { x: number }, values, observations: null, constraints, error: null, slot: 0, generation: 1, worker: 'w', durations: null, createdAt: '', finishedAt: null };
}

describe('objective series', () => {
  const trials = [trial(0, [5]), trial(1, [7]), trial(2, null, 'fail'), trial(3, [1], 'complete', [2]), trial(4, [3]), trial(5, [4])];

  it('draws complete trials only and steps the best-so-far line at each feasible improvement (minimize)', () => {
    const d = objectiveSeries(trials, 0, 'minimize');
    expect(d.points.map((p) => p.number)).toEqual([0, 1, 3, 4, 5]);
    // Trial 3 has the lowest value but broke a guardrail: it is drawn hollow and never counts as best.
    expect(d.points.find((p) => p.number === 3)).toMatchObject({ feasible: false, marked: false });
    expect(d.points.filter((p) => p.marked).map((p) => p.number)).toEqual([0, 4]);
    expect(d.line).toEqual([{ x: 0, y: 5 }, { x: 4, y: 5 }, { x: 4, y: 3 }, { x: 5, y: 3 }]);
    expect(d.xRange).toEqual([0, 5]);
    expect(d.yRange).toEqual([1, 7]);
  });

  it('follows the direction when maximizing', () => {
    const d = objectiveSeries(trials, 0, 'maximize');
    expect(d.points.filter((p) => p.marked).map((p) => p.number)).toEqual([0, 1]);
  });

  it('gives a flat or empty series a non-empty axis', () => {
    expect(objectiveSeries([trial(0, [2]), trial(1, [2])], 0, 'minimize').yRange).toEqual([1.5, 2.5]);
    expect(objectiveSeries([trial(0, null, 'fail')], 0, 'minimize')).toMatchObject({ points: [], line: [], yRange: [0, 1] });
  });
});

describe('pareto scatter', () => {
  it('marks the non-dominated feasible trials under the objectives’ directions', () => {
    const trials = [trial(0, [1, 5]), trial(1, [2, 2]), trial(2, [3, 3]), trial(3, [5, 1]), trial(4, [0, 0], 'complete', [1]), trial(5, null, 'fail')];
    const min = paretoScatter(trials, ['minimize', 'minimize']);
    expect(min.points.map((p) => p.number)).toEqual([0, 1, 2, 3, 4]);
    expect(min.points.filter((p) => p.marked).map((p) => p.number)).toEqual([0, 1, 3]);
    // Maximizing the first objective, trial 3 (5, 1) beats every other on both.
    const mixed = paretoScatter(trials, ['maximize', 'minimize']);
    expect(mixed.points.filter((p) => p.marked).map((p) => p.number)).toEqual([3]);
  });
});
