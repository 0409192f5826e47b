import { describe, expect, it } from 'vitest';
import type { Space } from '../../../../src/modules/breeder/model/space.ts';
import { createSampler } from '../../../../src/modules/breeder/samplers/index.ts';
import { dimsOf } from '../../../../src/modules/breeder/samplers/encoding.ts';
import type { Observed } from '../../../../src/modules/breeder/samplers/history.ts';
import { contestants, matingPair } from '../../../../src/modules/breeder/samplers/nsga2-mating.ts';
import type { Member } from '../../../../src/modules/breeder/samplers/nsga2-population.ts';
import { crossPair, Nsga2OptionsSchema } from '../../../../src/modules/breeder/samplers/nsga2.ts';
import { Rng } from '../../../../src/modules/breeder/samplers/rng.ts';
import type { TrialRecord } from '../../../../src/modules/breeder/samplers/types.ts';

const member = (i: number, rank: number, crowding: number): Member => ({
  trial: { position: i, params: {}, state: 'complete', loss: [0, 0], violation: 0 } as Observed,
  rank,
  crowding,
});

describe('NSGA-II mating selection (Deb’s reference code: two shuffles per generation, binary tournaments)', () => {
  it('puts every parent into exactly two tournaments per generation and never against itself', () => {
    for (const generation of [1, 2, 7]) {
      const seen = new Int32Array(100);
      for (let pair = 0; pair < 50; pair++) {
        const [a, b, c, d] = contestants(5, generation, pair, 100);
        expect(a).not.toBe(b);
        expect(c).not.toBe(d);
        for (const i of [a, b, c, d]) seen[i]!++;
      }
      expect([...seen].every((n) => n === 2)).toBe(true);
    }
  });

  it('makes the one parent of the first front, with an infinite crowding distance, a mate exactly twice per generation', () => {
    // With contestants drawn independently with replacement, this parent would miss a generation about 2% of the time.
    const parents = Array.from({ length: 40 }, (_, i) => (i === 17 ? member(i, 0, Infinity) : member(i, 1 + (i % 3), i)));
    for (let generation = 1; generation <= 30; generation++) {
      let mates = 0;
      for (let pair = 0; pair < 20; pair++) for (const p of matingPair(9, generation, pair, parents)) if (p.trial.position === 17) mates++;
      expect(mates).toBe(2);
    }
  });

  it('prefers the lower rank, then the larger crowding distance', () => {
    const parents = [member(0, 1, Infinity), member(1, 0, 0.1), member(2, 0, 0.5), member(3, 0, 0.5)];
    const wins = new Int32Array(4);
    for (let generation = 0; generation < 200; generation++) for (let pair = 0; pair < 2; pair++) for (const p of matingPair(1, generation, pair, parents)) wins[p.trial.position]!++;
    // Parent 0 (rank 1) can never win; parent 1 wins only against parent 0.
    expect(wins[0]).toBe(0);
    expect(wins[1]).toBeGreaterThan(0);
    expect(wins[2]! + wins[3]!).toBeGreaterThan(wins[1]! * 2);
  });
});

describe('NSGA-II crossover of a pair (SBX per variable with probability 1/2, children swapped per variable)', () => {
  const space: Space = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`x${i}`, { type: 'float' as const, low: -100, high: 100, log: false }]));
  const dims = dimsOf(space);
  const p1 = Object.fromEntries(dims.map((d, i) => [d.name, -0.25 - (i % 7) / 10]));
  const p2 = Object.fromEntries(dims.map((d, i) => [d.name, 0.25 + (i % 5) / 10]));
  const options = Nsga2OptionsSchema.parse({ crossover_prob: 1 });

  it('crosses about half of the variables, keeps each crossed pair’s mean (bounds far away), and gives either child the larger value', () => {
    const [a, b] = crossPair(new Rng(3), dims, p1, p2, options);
    let crossed = 0;
    let firstLarger = 0;
    dims.forEach((d, i) => {
      const x = p1[d.name]!;
      const y = p2[d.name]!;
      if (a[i] === x && b[i] === y) return;
      crossed++;
      expect(a[i]! + b[i]!).toBeCloseTo(x + y, 9);
      if (a[i]! > b[i]!) firstLarger++;
    });
    expect(crossed / dims.length).toBeGreaterThan(0.45);
    expect(crossed / dims.length).toBeLessThan(0.55);
    expect(firstLarger / crossed).toBeGreaterThan(0.45);
    expect(firstLarger / crossed).toBeLessThan(0.55);
  });

  it('copies the parents when the pair is not crossed', () => {
    const [a, b] = crossPair(new Rng(3), dims, p1, p2, Nsga2OptionsSchema.parse({ crossover_prob: 0 }));
    expect(a).toEqual(dims.map((d) => p1[d.name]));
    expect(b).toEqual(dims.map((d) => p2[d.name]));
  });
});

describe('NSGA-II duplicate elimination (as pymoo does)', () => {
  it('proposes no child identical to an earlier trial even when copies of the parents are the likeliest children', () => {
    // No crossover and a 5% mutation rate per variable: 86% of the children would be exact copies of a parent.
    const problem = { space: { a: { type: 'float' as const, low: 0, high: 1, log: false }, b: { type: 'float' as const, low: 0, high: 1, log: false }, c: { type: 'float' as const, low: 0, high: 1, log: false } }, directions: ['minimize', 'minimize'] as const };
    const sampler = createSampler({ sampler: 'nsga2', seed: 4, options: { population_size: 20, crossover_prob: 0, mutation_prob: 0.05 } }, { ...problem, directions: [...problem.directions] });
    const trials: TrialRecord[] = [];
    for (let number = 0; number < 300; number++) {
      const r = sampler.sample({ trials, number });
      if (r.kind !== 'params') throw new Error('exhausted');
      const [a, b, c] = [r.params.a as number, r.params.b as number, r.params.c as number];
      trials.push({ params: r.params, state: 'complete', values: [a + b * c, 1 - a + c] });
    }
    const keys = new Set(trials.map((t) => JSON.stringify([t.params.a, t.params.b, t.params.c])));
    expect(keys.size).toBe(trials.length);
  });
});
