/** Cooperation rules: what a sharer shares (by its own objective's direction) and how a receiver maps values by name. */
import { describe, expect, it } from 'vitest';
import { parseDefinition, type Definition } from '../../../../src/modules/breeder/model/definition.ts';
import { asReceived, selectShared, sharedHistory } from '../../../../src/modules/breeder/runtime/cooperation.ts';
import type { TrialRow } from '../../../../src/modules/breeder/store/index.ts';

const src = { http: { url: 'http://127.0.0.1:1/' } };
function def(objectives: [string, 'minimize' | 'maximize'][], cooperation?: Record<string, unknown>): Definition {
  return parseDefinition({
    name: 'd',
    space: { x: { type: 'float', low: 0, high: 100 } },
    objectives: objectives.map(([name, direction]) => ({ name, direction, source: src })),
    effectuation: { http: { url: 'http://127.0.0.1:1/a' } },
    ...(cooperation ? { cooperation } : {}),
  });
}
function trial(number: number, values: number[] | null, state: TrialRow['state'] = 'complete'): TrialRow {
  return { breederId: 'b1', number, state, params: { x: number }, values, observations: null, constraints: null, error: null, slot: 0, generation: 1, worker: 'w', durations: null, createdAt: '', finishedAt: null };
}
const trials = [trial(0, [5]), trial(1, [1]), trial(2, [9]), trial(3, null, 'fail'), trial(4, [3]), trial(5, null, 'running')];

describe('cooperation', () => {
  it('all shares finished trials, failures included; running ones never', () => {
    expect(selectShared(def([['v', 'minimize']], { group: 'g', share: 'all' }), trials).map((t) => t.number)).toEqual([0, 1, 2, 3, 4]);
    expect(selectShared(def([['v', 'minimize']]), trials)).toEqual([]);
  });

  it('best and extremes rank by the sharer’s direction', () => {
    const best = (dir: 'minimize' | 'maximize', share: string) => selectShared(def([['v', dir]], { group: 'g', share, top: 0.25 }), trials).map((t) => t.number);
    expect(best('minimize', 'best')).toEqual([1]);
    expect(best('maximize', 'best')).toEqual([2]);
    expect(best('minimize', 'extremes')).toEqual([1, 2]);
    expect(selectShared(def([['v', 'minimize']], { group: 'g', share: 'best', top: 0.5 }), trials).map((t) => t.number)).toEqual([1, 4]);
  });

  it('probabilistic shares a stable, roughly proportional subset', () => {
    const many = Array.from({ length: 2000 }, (_, i) => trial(i, [i]));
    const d = def([['v', 'minimize']], { group: 'g', share: 'probabilistic', probability: 0.3 });
    const once = selectShared(d, many).map((t) => t.number);
    expect(selectShared(d, many).map((t) => t.number)).toEqual(once);
    expect(once.length / many.length).toBeGreaterThan(0.25);
    expect(once.length / many.length).toBeLessThan(0.35);
  });

  it('maps values by objective name and skips trials lacking one of the receiver’s objectives', () => {
    const sharer = def([['lat', 'minimize'], ['rps', 'maximize']], { group: 'g' });
    expect(asReceived(def([['rps', 'maximize']]), sharer, trial(0, [7, 300]))).toEqual({ params: { x: 0 }, values: [300], state: 'complete', constraints: null });
    expect(asReceived(def([['cost', 'minimize']]), sharer, trial(0, [7, 300]))).toBeNull();
    expect(sharedHistory(def([['rps', 'maximize'], ['lat', 'minimize']]), [{ definition: sharer, trials: [trial(0, [7, 300]), trial(1, null, 'fail')] }])).toEqual([
      { params: { x: 0 }, values: [300, 7], state: 'complete', constraints: null },
      { params: { x: 1 }, values: null, state: 'fail', constraints: null },
    ]);
  });
});
