/**
 * NSGA-II (Deb et al. 2002) as a sampler: while the first generation fills, random trials; then each proposal is
 * one child of two parents picked by binary tournament (crowded comparison: rank, then crowding distance) from
 * the current parents (nsga2-population.ts). With probability `crossover_prob` numeric parameters are crossed by
 * SBX (each with probability 1/2) and categorical ones by uniform crossover (`swapping_prob`); then each
 * parameter mutates with probability `mutation_prob` (default 1/number of parameters): polynomial mutation for
 * numeric ones, a random choice for categorical ones. Guardrail violations rank by constraint domination.
 * Running, failed and pruned trials take no part.
 */
import * as z from 'zod';
import type { Params } from '../model/space.ts';
import { decodeNumeric, dimsOf, encodeCategorical, encodeNumeric } from './encoding.ts';
import { observe } from './history.ts';
import { Generations, type Member } from './nsga2-population.ts';
import { randomParams } from './random.ts';
import { Rng, STREAM } from './rng.ts';
import type { Sampler, SamplingProblem } from './types.ts';
import { polynomialMutation, sbx } from './variation.ts';

/** Options of the NSGA-II sampler. */
export const Nsga2OptionsSchema = z.strictObject({
  /** Trials per generation. */
  population_size: z.number().int().min(2).max(100_000).default(50),
  /** Probability that a child is made by crossover (else it copies its first parent before mutation). */
  crossover_prob: z.number().min(0).max(1).default(0.9),
  /** Uniform crossover of categorical parameters: probability of taking the second parent's value. */
  swapping_prob: z.number().min(0).max(1).default(0.5),
  /** Per-parameter mutation probability; default 1 / number of parameters. */
  mutation_prob: z.number().min(0).max(1).optional(),
  /** SBX distribution index (larger: children closer to the parents). */
  eta_c: z.number().min(0).default(20),
  /** Polynomial mutation distribution index. */
  eta_m: z.number().min(0).default(20),
});

/** Parsed NSGA-II options. */
export type Nsga2Options = z.output<typeof Nsga2OptionsSchema>;

/** Deb's crowded comparison: lower rank wins, then larger crowding distance, then a coin. */
function tournament(rng: Rng, parents: readonly Member[]): Member {
  const a = parents[rng.int(parents.length)]!;
  const b = parents[rng.int(parents.length)]!;
  if (a.rank !== b.rank) return a.rank < b.rank ? a : b;
  if (a.crowding !== b.crowding) return a.crowding > b.crowding ? a : b;
  return rng.uniform() < 0.5 ? a : b;
}

/** An NSGA-II sampler. */
export function createNsga2Sampler(problem: SamplingProblem, seed: number, options: Nsga2Options): Sampler {
  const dims = dimsOf(problem.space);
  const generations = new Generations(options.population_size);
  const mutationProb = options.mutation_prob ?? 1 / dims.length;

  return {
    name: 'nsga2',
    sample: ({ trials, number }) => {
      const finished = observe(trials, dims, problem.directions).filter((t) => t.state === 'complete');
      const parents = generations.parents(finished);
      if (parents.length === 0) return { kind: 'params', params: randomParams(dims, new Rng(seed, number, STREAM.random)) };
      const rng = new Rng(seed, number, STREAM.nsga2);
      const p1 = tournament(rng, parents).trial.params;
      const p2 = tournament(rng, parents).trial.params;
      const cross = rng.uniform() < options.crossover_prob;
      const child: Params = {};
      for (const d of dims) {
        if (d.kind === 'categorical') {
          let i = encodeCategorical(d, cross && rng.uniform() < options.swapping_prob ? p2[d.name] : p1[d.name]);
          if (rng.uniform() < mutationProb) i = rng.int(d.choices.length);
          child[d.name] = d.choices[i]!;
          continue;
        }
        let x = encodeNumeric(d, p1[d.name] as number);
        if (cross && rng.uniform() < 0.5) x = sbx(rng, x, encodeNumeric(d, p2[d.name] as number), d.lo, d.hi, options.eta_c)[0];
        if (rng.uniform() < mutationProb) x = polynomialMutation(rng, x, d.lo, d.hi, options.eta_m);
        child[d.name] = decodeNumeric(d, x);
      }
      return { kind: 'params', params: child };
    },
  };
}
