/**
 * NSGA-II's mating selection as Deb's reference code (and pymoo) does it, made stateless: each generation shuffles
 * its parents twice, and consecutive quadruples of that sequence hold two binary tournaments whose winners mate.
 * Every parent therefore enters exactly two tournaments per generation (a boundary point of the first front, with
 * its infinite crowding distance, wins both unless it meets another boundary point) and, when the population is a
 * multiple of 4, never meets itself. Drawing contestants independently with replacement instead leaves about 2% of the parents
 * out of every generation and lets a parent mate with itself, which loses the ends of a front sooner.
 * Everything is keyed on (seed, generation, pair), so a fresh sampler given the same history mates the same pairs.
 */
import type { Member } from './nsga2-population.ts';
import { Rng, STREAM } from './rng.ts';

/** Sub-streams of STREAM.nsga2, so that shuffles, crossovers and retries draw independent numbers. */
export const NSGA2_PURPOSE = { shuffle: 1, crossover: 2, mutation: 3, retry: 4 } as const;

/** Deb's crowded comparison: lower rank wins, then larger crowding distance, then a coin. */
export function crowdedComparison(rng: Rng, a: Member, b: Member): Member {
  if (a.rank !== b.rank) return a.rank < b.rank ? a : b;
  if (a.crowding !== b.crowding) return a.crowding > b.crowding ? a : b;
  return rng.uniform() < 0.5 ? a : b;
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
function permutation(rng: Rng, n: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/**
 * The indices (into the n parents) of the four contestants of mating pair `pair` in generation `generation`:
 * positions 4·pair .. 4·pair+3 of the sequence made by concatenating shuffles of 0..n-1 (shuffle s covers
 * positions s·n .. s·n+n-1), so pairs 0 .. n/2-1 use every parent exactly twice.
 */
export function contestants(seed: number, generation: number, pair: number, n: number): [number, number, number, number] {
  const shuffles = new Map<number, Int32Array>();
  const at = (position: number): number => {
    const s = Math.floor(position / n);
    let p = shuffles.get(s);
    if (!p) shuffles.set(s, (p = permutation(new Rng(seed, generation, STREAM.nsga2, NSGA2_PURPOSE.shuffle, s), n)));
    return p[position % n]!;
  };
  return [at(4 * pair), at(4 * pair + 1), at(4 * pair + 2), at(4 * pair + 3)];
}

/** The two parents of mating pair `pair` in generation `generation`: the winners of its two tournaments. */
export function matingPair(seed: number, generation: number, pair: number, parents: readonly Member[]): [Member, Member] {
  const [a, b, c, d] = contestants(seed, generation, pair, parents.length);
  const coin = new Rng(seed, generation, STREAM.nsga2, NSGA2_PURPOSE.shuffle, -1 - pair);
  return [crowdedComparison(coin, parents[a]!, parents[b]!), crowdedComparison(coin, parents[c]!, parents[d]!)];
}
