import { describe, expect, it } from 'vitest';
import type { Space } from '../../../../src/modules/breeder/model/space.ts';
import { dimsOf } from '../../../../src/modules/breeder/samplers/encoding.ts';
import { ParzenEstimator, type ParzenSettings } from '../../../../src/modules/breeder/samplers/parzen.ts';
import { Rng } from '../../../../src/modules/breeder/samplers/rng.ts';
import { ageWeights } from '../../../../src/modules/breeder/samplers/tpe.ts';

// A float, a log float, an int grid and a categorical: every kind of kernel an update touches.
const space: Space = {
  a: { type: 'float', low: -5, high: 5, log: false },
  b: { type: 'float', low: 1e-4, high: 1, log: true },
  c: { type: 'int', low: 1, high: 12, log: false },
  d: { type: 'categorical', choices: ['x', 'y', 'z'] },
};
const dims = dimsOf(space);

/** One observation's internal values; values are drawn from a few so that equal centres (ties) are common. */
function draw(rng: Rng): number[] {
  return dims.map((d) => {
    if (d.kind === 'categorical') return rng.int(d.choices.length);
    if (d.step !== null) return d.lo + rng.int(Math.round(d.hi - d.lo) + 1);
    return d.lo + ((d.hi - d.lo) * rng.int(40)) / 39;
  });
}

const settings = (clipCount: number): ParzenSettings => ({ priorWeight: 1, bandwidth: 'optuna', magicClip: true, endpoints: false, clipCount, bandwidthFactor: 1, minBandwidth: 0.001 });

describe('ParzenEstimator.update', () => {
  it('gives, after trials are added, removed and put back anywhere, the same densities to the last bit as an estimator built anew', () => {
    const rng = new Rng(7, 0, 0);
    // Observations by key (a history position), the group being a changing subset of them.
    const values = new Map<number, number[]>();
    let group: number[] = [];
    for (let key = 0; key < 60; key++) {
      values.set(key, draw(rng));
      group.push(key);
    }
    const inputs = (keys: number[]) => ({
      obs: dims.map((_, j) => Float64Array.from(keys, (k) => values.get(k)![j]!)),
      weights: ageWeights(keys.length, true),
    });
    const first = inputs(group);
    const kept = new ParzenEstimator(dims, first.obs, first.weights, settings(60), group);
    let next = 60;
    let updates = 0;
    for (let step = 0; step < 120; step++) {
      // Add 1-2 new ones, drop one now and then, put a dropped one back (what the good/bad split does).
      const add = 1 + rng.int(2);
      for (let a = 0; a < add; a++) {
        values.set(next, draw(rng));
        group.push(next++);
      }
      if (rng.int(3) === 0) group.splice(rng.int(group.length), 1);
      if (rng.int(3) === 0) {
        const back = [...values.keys()].filter((k) => !group.includes(k));
        if (back.length) group = [...group, back[rng.int(back.length)]!].sort((x, y) => x - y);
      }
      // The clip's count moves while it is under 100, which changes many widths at once.
      const s = settings(60 + step);
      const { obs, weights } = inputs(group);
      if (kept.update(obs, weights, s, group)) updates++;
      else throw new Error(`update refused at step ${step}`);
      const fresh = new ParzenEstimator(dims, obs, weights, s);
      const points = dims.map((d, j) => Float64Array.from({ length: 30 }, () => draw(rng)[j]!));
      expect(Array.from(kept.logPdf(points, 30))).toEqual(Array.from(fresh.logPdf(points, 30)));
      // Draws use the weights and kernels too.
      expect(kept.sample(new Rng(1, step, 0), 5)).toEqual(fresh.sample(new Rng(1, step, 0), 5));
    }
    expect(updates).toBe(120);
  });

  it('refuses, changing nothing, when a kept key has other values or keys are out of order', () => {
    const rng = new Rng(3, 0, 0);
    const rows = Array.from({ length: 30 }, () => draw(rng));
    const keys = rows.map((_, i) => i);
    const obs = dims.map((_, j) => Float64Array.from(rows, (r) => r[j]!));
    const est = new ParzenEstimator(dims, obs, ageWeights(30, true), settings(30), keys);
    const before = est.logPdf(obs, 30);
    const changed = obs.map((o) => o.slice());
    changed[0]![4] = changed[0]![4]! === 0 ? 1 : 0;
    expect(est.update(changed, ageWeights(30, true), settings(30), keys)).toBe(false);
    expect(est.update(obs, ageWeights(30, true), settings(30), [...keys].reverse())).toBe(false);
    expect(est.update(obs, ageWeights(30, true), { ...settings(30), priorWeight: 2 }, keys)).toBe(false);
    expect(Array.from(est.logPdf(obs, 30))).toEqual(Array.from(before));
  });
});
