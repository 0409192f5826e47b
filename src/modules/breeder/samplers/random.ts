/** The random sampler: every parameter drawn independently from its prior (uniform, log-uniform on a log scale). */
import type { Params } from '../model/space.ts';
import type { Dim } from './encoding.ts';
import { dimsOf, fromUnit } from './encoding.ts';
import { Rng, STREAM } from './rng.ts';
import type { Sampler, SamplingProblem } from './types.ts';

/** One random point of the space from the given generator. */
export function randomParams(dims: readonly Dim[], rng: Rng): Params {
  const out: Params = {};
  for (const d of dims) out[d.name] = fromUnit(d, rng.uniform());
  return out;
}

/** A sampler that ignores the history; trial `number` fixes its draw. */
export function createRandomSampler(problem: SamplingProblem, seed: number): Sampler {
  const dims = dimsOf(problem.space);
  return {
    name: 'random',
    sample: ({ number }) => ({ kind: 'params', params: randomParams(dims, new Rng(seed, number, STREAM.random)) }),
  };
}
