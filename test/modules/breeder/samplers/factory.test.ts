import { describe, expect, it } from 'vitest';
import { Invalid } from '../../../../src/kernel/index.ts';
import { createSampler, SamplerConfigSchema } from '../../../../src/modules/breeder/samplers/index.ts';

const problem = { space: { x: { type: 'float' as const, low: 0, high: 1, log: false } }, directions: ['minimize' as const] };

function issuesOf(config: unknown, p: unknown = problem): { path: string; message: string }[] {
  try {
    createSampler(config, p as typeof problem);
  } catch (err) {
    expect(err).toBeInstanceOf(Invalid);
    return (err as Invalid).issues;
  }
  throw new Error('expected Invalid');
}

describe('sampler factory', () => {
  it('fills every default, so a definition may name only the sampler', () => {
    const c = SamplerConfigSchema.parse({ sampler: 'tpe' });
    expect(c.seed).toBe(0);
    expect(c.sampler === 'tpe' && c.options.n_startup_trials).toBe(10);
    for (const sampler of ['tpe', 'nsga2', 'random', 'qmc'] as const) expect(createSampler({ sampler, seed: 1 }, problem).name).toBe(sampler);
  });

  it('refuses bad configuration naming the field', () => {
    expect(issuesOf({ sampler: 'tpe', options: { gamma: 2 } }).map((i) => i.path)).toEqual(['algorithm.options.gamma']);
    expect(issuesOf({ sampler: 'tpe', options: { gama: 0.2 } }).map((i) => i.path)).toEqual(['algorithm.options.gama']);
    expect(issuesOf({ sampler: 'nsga2', options: { population_size: 1 } }).map((i) => i.path)).toEqual(['algorithm.options.population_size']);
    expect(issuesOf({ sampler: 'annealing' }).map((i) => i.path)).toEqual(['algorithm.sampler']);
    expect(issuesOf({ sampler: 'random', seed: -1 }).map((i) => i.path)).toEqual(['algorithm.seed']);
    expect(issuesOf({ sampler: 'grid' }).map((i) => i.path)).toEqual(['algorithm.options.points.x']);
    expect(issuesOf({ sampler: 'random' }, { ...problem, directions: [] }).map((i) => i.path)).toEqual(['objectives']);
    expect(issuesOf({ sampler: 'random' }, { ...problem, space: { x: { type: 'int', low: 3, high: 1 } } }).map((i) => i.path)).toEqual(['space.x.high']);
  });
});
