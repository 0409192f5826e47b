import { describe, expect, it } from 'vitest';
import { createSampler } from '../../../../src/modules/breeder/samplers/index.ts';
import type { Sampler, TrialRecord } from '../../../../src/modules/breeder/samplers/types.ts';

const unitSquare = { space: { x: { type: 'float' as const, low: 0, high: 1, log: false }, y: { type: 'float' as const, low: 0, high: 1, log: false } }, directions: ['minimize' as const] };

function points(sampler: Sampler, n: number): [number, number][] {
  return Array.from({ length: n }, (_, number) => {
    const r = sampler.sample({ trials: [], number });
    if (r.kind !== 'params') throw new Error('exhausted');
    return [r.params.x as number, r.params.y as number];
  });
}

/** Pearson's chi-square of counts in a k×k grid of cells against the uniform expectation. */
function chiSquare(pts: [number, number][], k: number): number {
  const counts = new Array(k * k).fill(0);
  for (const [x, y] of pts) counts[Math.floor(x * k) * k + Math.floor(y * k)]++;
  const e = pts.length / (k * k);
  return counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
}

/** Hickernell's centred L2 discrepancy (squared) of points in [0, 1]^2. */
function centredDiscrepancy(pts: [number, number][]): number {
  const n = pts.length;
  const term = (v: number) => 1 + 0.5 * Math.abs(v - 0.5) - 0.5 * (v - 0.5) ** 2;
  let a = 0;
  for (const [x, y] of pts) a += term(x) * term(y);
  let b = 0;
  for (const p of pts)
    for (const q of pts) {
      let prod = 1;
      for (let k = 0; k < 2; k++) prod *= 1 + 0.5 * Math.abs(p[k]! - 0.5) + 0.5 * Math.abs(q[k]! - 0.5) - 0.5 * Math.abs(p[k]! - q[k]!);
      b += prod;
    }
  return (13 / 12) ** 2 - (2 / n) * a + b / (n * n);
}

describe('random and QMC samplers', () => {
  it('random points pass a chi-square test of uniformity (10x10 cells, 2,000 points, p = 0.001)', () => {
    for (const seed of [1, 2, 3]) expect(chiSquare(points(createSampler({ sampler: 'random', seed }, unitSquare), 2000), 10)).toBeLessThan(148.2);
  });

  it('QMC points are more even than random ones: lower chi-square and lower centred discrepancy, for each seed', () => {
    for (const seed of [1, 2, 3, 4]) {
      const q = points(createSampler({ sampler: 'qmc', seed }, unitSquare), 512);
      const r = points(createSampler({ sampler: 'random', seed }, unitSquare), 512);
      expect(chiSquare(q, 8)).toBeLessThan(chiSquare(r, 8) / 3);
      expect(centredDiscrepancy(q)).toBeLessThan(centredDiscrepancy(r) / 3);
      for (const [x, y] of q) expect(x >= 0 && x < 1 && y >= 0 && y < 1).toBe(true);
    }
  });

  it('is deterministic by seed: same seed same points, another seed other points', () => {
    for (const sampler of ['random', 'qmc'] as const) {
      const a = points(createSampler({ sampler, seed: 7 }, unitSquare), 20);
      expect(points(createSampler({ sampler, seed: 7 }, unitSquare), 20)).toEqual(a);
      expect(points(createSampler({ sampler, seed: 8 }, unitSquare), 20)).not.toEqual(a);
    }
  });

  it('respects int steps, float steps, log scales and categorical choices', () => {
    const space = {
      n: { type: 'int' as const, low: 2, high: 20, step: 3, log: false },
      r: { type: 'float' as const, low: 0.1, high: 0.9, step: 0.05, log: false },
      m: { type: 'float' as const, low: 1e-4, high: 1, log: true },
      c: { type: 'categorical' as const, choices: ['cubic', 'bbr', 'reno'] },
    };
    for (const sampler of ['random', 'qmc'] as const) {
      const s = createSampler({ sampler, seed: 3 }, { space, directions: ['minimize'] });
      const seen = { n: new Set<unknown>(), r: new Set<unknown>(), c: new Set<unknown>() };
      let belowMilli = 0;
      for (let number = 0; number < 600; number++) {
        const r = s.sample({ trials: [], number });
        if (r.kind !== 'params') throw new Error('exhausted');
        const p = r.params;
        expect([2, 5, 8, 11, 14, 17, 20]).toContain(p.n);
        expect(Math.abs(((p.r as number) - 0.1) / 0.05 - Math.round(((p.r as number) - 0.1) / 0.05))).toBeLessThan(1e-9);
        expect(String(p.r).length).toBeLessThanOrEqual(4); // 0.35, never 0.35000000000000003
        expect(p.m as number).toBeGreaterThanOrEqual(1e-4);
        if ((p.m as number) < 1e-3) belowMilli++;
        seen.n.add(p.n);
        seen.r.add(p.r);
        seen.c.add(p.c);
      }
      expect(seen.n.size).toBe(7);
      expect(seen.r.size).toBe(17);
      expect([...seen.c].sort()).toEqual(['bbr', 'cubic', 'reno']);
      // Log-uniform over 4 decades: a quarter of the draws below 1e-3 (uniform would give 0.1%).
      expect(belowMilli / 600).toBeGreaterThan(0.18);
      expect(belowMilli / 600).toBeLessThan(0.32);
    }
  });
});

describe('grid sampler', () => {
  const space = {
    a: { type: 'int' as const, low: 1, high: 3, log: false },
    b: { type: 'categorical' as const, choices: ['x', 'y'] },
    c: { type: 'float' as const, low: 0, high: 1, log: false },
  };

  it('proposes every combination once, then answers exhausted', () => {
    const s = createSampler({ sampler: 'grid', seed: 5, options: { points: { c: 2 } } }, { space, directions: ['minimize'] });
    const trials: TrialRecord[] = [];
    for (let number = 0; number < 12; number++) {
      const r = s.sample({ trials, number });
      expect(r.kind).toBe('params');
      if (r.kind === 'params') trials.push({ params: r.params, state: number % 3 === 0 ? 'fail' : 'complete', values: [number] });
    }
    const keys = new Set(trials.map((t) => JSON.stringify(t.params)));
    expect(keys.size).toBe(12);
    expect(new Set(trials.map((t) => t.params.c))).toEqual(new Set([0, 1]));
    expect(s.sample({ trials, number: 12 })).toEqual({ kind: 'exhausted' });
  });

  it('counts running trials and cooperating breeders’ trials as taken', () => {
    const s = createSampler({ sampler: 'grid', seed: 1, options: { default_points: 1 } }, { space, directions: ['minimize'] });
    const all = [1, 2, 3].flatMap((a) => ['x', 'y'].map((b) => ({ a, b, c: 0.5 })));
    const trials: TrialRecord[] = all.slice(0, 5).map((params) => ({ params: { ...params, other: 1 }, state: 'running' }));
    const r = s.sample({ trials, number: 0 });
    expect(r).toEqual({ kind: 'params', params: all[5] });
    expect(s.sample({ trials: [...trials, { params: all[5]!, state: 'complete', values: [1] }], number: 1 })).toEqual({ kind: 'exhausted' });
  });
});
