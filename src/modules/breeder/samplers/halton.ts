/**
 * Scrambled Halton points: dimension j uses the j-th prime as its base, and every digit is put through a random
 * permutation that depends on the seed, the dimension, the digit's position and all the digits before it
 * (Owen's nested uniform scrambling). The permutations come from hashing those keys, so point i is computed
 * on its own, with no table and no state: the same seed always gives the same sequence.
 */
import { Rng, STREAM } from './rng.ts';

/** The first n primes. */
export function primes(n: number): number[] {
  const out: number[] = [];
  for (let c = 2; out.length < n; c++) if (out.every((p) => p * p > c || c % p !== 0)) out.push(c);
  return out;
}

/** A random permutation of 0..b-1 from its keys (Fisher-Yates). */
function permutation(b: number, keys: number[]): number[] {
  const p = Array.from({ length: b }, (_, i) => i);
  const rng = new Rng(...keys);
  for (let i = b - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

/** Coordinate `dim` (base `base`) of point `index`, in [0, 1); scrambled when `seed` is not null. */
export function haltonCoordinate(index: number, dim: number, base: number, seed: number | null): number {
  // Enough digits to reach double precision without the sum rounding up to 1.
  const digits = Math.floor(52 / Math.log2(base));
  let x = 0;
  let scale = 1 / base;
  let rest = index;
  let prefix = 0;
  let weight = 1;
  for (let k = 0; k < digits; k++) {
    const d = rest % base;
    rest = Math.floor(rest / base);
    const digit = seed === null ? d : permutation(base, [seed, STREAM.qmc, dim, k, prefix])[d]!;
    x += digit * scale;
    scale /= base;
    if (seed === null && rest === 0) break;
    // Past the digits of the index the prefix stays the index itself, so it stays unique per position.
    if (weight < Number.MAX_SAFE_INTEGER / base) {
      prefix += d * weight;
      weight *= base;
    }
  }
  return Math.min(x, 1 - Number.EPSILON / 2);
}

/** Point `index` of the d-dimensional (scrambled) Halton sequence. */
export function haltonPoint(index: number, d: number, seed: number | null): number[] {
  const bases = primes(d);
  return bases.map((b, j) => haltonCoordinate(index, j, b, seed));
}
