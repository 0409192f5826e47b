/**
 * NSGA-II (Deb et al. 2002) as a sampler, following the conventions of Deb's reference code (which pymoo also
 * follows): while the first generation fills, random trials; then generation g's `population_size` proposals are
 * the children of mating pairs chosen by binary tournaments over two shuffles of the current parents
 * (nsga2-mating.ts), two children per pair: trial number t is child t mod 2 of pair ⌊(t mod population_size) / 2⌋.
 * With probability `crossover_prob` a pair is crossed: each numeric parameter with probability 1/2 by bounded SBX
 * (the two children's values swapped with probability 1/2), each categorical one by uniform crossover
 * (`swapping_prob`); otherwise the children copy their parents. Then each parameter of a child mutates with
 * probability `mutation_prob` (default 1/number of parameters): bounded polynomial mutation for numeric ones, a
 * random choice for categorical ones. A child identical to a parent or to a trial proposed since the generation
 * began is made again from a fresh random mating (pymoo's duplicate elimination), up to 100 times.
 * Guardrail violations rank by constraint domination. Running, failed and pruned trials take no part in survival.
 */
import * as z from 'zod';
import type { Params } from '../model/space.ts';
import { decodeNumeric, type Dim, dimsOf, encodeCategorical, encodeNumeric } from './encoding.ts';
import type { Observed } from './history.ts';
import { observe } from './history.ts';
import { crowdedComparison, matingPair, NSGA2_PURPOSE } from './nsga2-mating.ts';
import { Generations, type Member } from './nsga2-population.ts';
import { randomParams } from './random.ts';
import { Rng, STREAM } from './rng.ts';
import type { Sampler, SamplingProblem } from './types.ts';
import { polynomialMutation, sbx } from './variation.ts';

/** Options of the NSGA-II sampler. */
export const Nsga2OptionsSchema = z.strictObject({
  /** Trials per generation. */
  population_size: z.number().int().min(2).max(100_000).default(50),
  /** Probability that a pair is crossed (else its children copy the parents before mutation). */
  crossover_prob: z.number().min(0).max(1).default(0.9),
  /** Uniform crossover of categorical parameters: probability that the children swap the parents' values. */
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

/** Attempts at a child that duplicates no parent and no trial of the generation (pymoo's default bound). */
const MAX_ATTEMPTS = 100;

/** Internal values of one child: numbers for numeric parameters, choice indices for categorical ones. */
type Genome = number[];

/** The two children of crossing p1 and p2 (copies of the parents when the pair is not crossed). */
export function crossPair(rng: Rng, dims: readonly Dim[], p1: Params, p2: Params, options: Nsga2Options): [Genome, Genome] {
  const cross = rng.uniform() < options.crossover_prob;
  const a: Genome = [];
  const b: Genome = [];
  for (const d of dims) {
    if (d.kind === 'categorical') {
      const x = encodeCategorical(d, p1[d.name]);
      const y = encodeCategorical(d, p2[d.name]);
      const swap = cross && rng.uniform() < options.swapping_prob;
      a.push(swap ? y : x);
      b.push(swap ? x : y);
      continue;
    }
    const x = encodeNumeric(d, p1[d.name] as number);
    const y = encodeNumeric(d, p2[d.name] as number);
    if (cross && rng.uniform() < 0.5) {
      const [c1, c2] = sbx(rng, x, y, d.lo, d.hi, options.eta_c);
      a.push(c1);
      b.push(c2);
    } else {
      a.push(x);
      b.push(y);
    }
  }
  return [a, b];
}

/** A child's parameters after mutating each with probability `mutationProb`. */
export function mutate(rng: Rng, dims: readonly Dim[], genome: Genome, mutationProb: number, etaM: number): Params {
  const child: Params = {};
  dims.forEach((d, i) => {
    let x = genome[i]!;
    if (d.kind === 'categorical') {
      if (rng.uniform() < mutationProb) x = rng.int(d.choices.length);
      child[d.name] = d.choices[x]!;
      return;
    }
    if (rng.uniform() < mutationProb) x = polynomialMutation(rng, x, d.lo, d.hi, etaM);
    child[d.name] = decodeNumeric(d, x);
  });
  return child;
}

/**
 * The identity of a parameter set, for duplicate elimination: the values in the dims' order, numeric ones as the
 * sampler would propose them (a child copied from a random trial is rounded to 14 digits, and must still count as
 * a copy).
 */
function keyOf(dims: readonly Dim[], params: Params): string {
  return JSON.stringify(dims.map((d) => (d.kind === 'numeric' ? decodeNumeric(d, encodeNumeric(d, params[d.name] as number)) : params[d.name])));
}

/** An NSGA-II sampler. */
export function createNsga2Sampler(problem: SamplingProblem, seed: number, options: Nsga2Options): Sampler {
  const dims = dimsOf(problem.space);
  const size = options.population_size;
  const generations = new Generations(size);
  const mutationProb = options.mutation_prob ?? 1 / dims.length;
  const keys = new WeakMap<Observed, string>();
  const trialKey = (t: Observed) => {
    let k = keys.get(t);
    if (k === undefined) keys.set(t, (k = keyOf(dims, t.params)));
    return k;
  };

  /** Keys of the parents and of every trial after the last one the parents were chosen from. */
  function takenKeys(all: readonly Observed[], finished: readonly Observed[], parents: readonly Member[]): Set<string> {
    const taken = new Set<string>();
    for (const m of parents) taken.add(trialKey(m.trial));
    const since = finished[Math.floor(finished.length / size) * size - 1]!.position;
    // `all` is in history order: walk back from the newest trial, so a sample does not pay for the whole history.
    for (let i = all.length - 1; i >= 0 && all[i]!.position > since; i--) taken.add(trialKey(all[i]!));
    return taken;
  }

  return {
    name: 'nsga2',
    sample: ({ trials, number }) => {
      const all = observe(trials, dims, problem.directions);
      const finished = all.filter((t) => t.state === 'complete');
      const parents = generations.parents(finished);
      if (parents.length === 0) return { kind: 'params', params: randomParams(dims, new Rng(seed, number, STREAM.random)) };
      const generation = Math.floor(finished.length / size);
      const slot = number % size;
      const pair = Math.floor(slot / 2);
      const which = slot % 2;
      const [p1, p2] = matingPair(seed, generation, pair, parents);
      const genomes = crossPair(new Rng(seed, generation, STREAM.nsga2, NSGA2_PURPOSE.crossover, pair), dims, p1.trial.params, p2.trial.params, options);
      let child = mutate(new Rng(seed, number, STREAM.nsga2, NSGA2_PURPOSE.mutation), dims, genomes[which]!, mutationProb, options.eta_m);
      const taken = takenKeys(all, finished, parents);
      for (let attempt = 1; attempt < MAX_ATTEMPTS && taken.has(keyOf(dims, child)); attempt++) {
        const rng = new Rng(seed, number, STREAM.nsga2, NSGA2_PURPOSE.retry, attempt);
        const pick = () => parents[rng.int(parents.length)]!;
        const q1 = crowdedComparison(rng, pick(), pick());
        const q2 = crowdedComparison(rng, pick(), pick());
        const [g1, g2] = crossPair(rng, dims, q1.trial.params, q2.trial.params, options);
        child = mutate(rng, dims, rng.uniform() < 0.5 ? g1 : g2, mutationProb, options.eta_m);
      }
      return { kind: 'params', params: child };
    },
  };
}
