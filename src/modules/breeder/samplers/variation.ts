/** NSGA-II's variation operators on one bounded real variable (Deb & Agrawal 1995, Deb 2002): SBX crossover and polynomial mutation. */
import type { Rng } from './rng.ts';

/** The spread factor of bounded SBX for a parent at distance `gap` from its bound. */
function betaQ(u: number, gap: number, spread: number, eta: number): number {
  const beta = 1 + (2 * gap) / spread;
  const alpha = 2 - beta ** -(eta + 1);
  return u <= 1 / alpha ? (u * alpha) ** (1 / (eta + 1)) : (1 / (2 - u * alpha)) ** (1 / (eta + 1));
}

/** Simulated binary crossover of two values in [lo, hi] with distribution index `eta`; the children in random order. */
export function sbx(rng: Rng, x1: number, x2: number, lo: number, hi: number, eta: number): [number, number] {
  if (Math.abs(x1 - x2) <= 1e-14 * Math.max(1, hi - lo)) return [x1, x2];
  const y1 = Math.min(x1, x2);
  const y2 = Math.max(x1, x2);
  const spread = y2 - y1;
  const u = rng.uniform();
  let c1 = 0.5 * (y1 + y2 - betaQ(u, y1 - lo, spread, eta) * spread);
  let c2 = 0.5 * (y1 + y2 + betaQ(u, hi - y2, spread, eta) * spread);
  c1 = Math.min(hi, Math.max(lo, c1));
  c2 = Math.min(hi, Math.max(lo, c2));
  return rng.uniform() < 0.5 ? [c2, c1] : [c1, c2];
}

/** Polynomial mutation of a value in [lo, hi] with distribution index `eta` (Deb's bounded form). */
export function polynomialMutation(rng: Rng, x: number, lo: number, hi: number, eta: number): number {
  const range = hi - lo;
  if (range <= 0) return x;
  const d1 = (x - lo) / range;
  const d2 = (hi - x) / range;
  const u = rng.uniform();
  const pow = 1 / (eta + 1);
  let dq: number;
  if (u < 0.5) {
    const v = 2 * u + (1 - 2 * u) * (1 - d1) ** (eta + 1);
    dq = v ** pow - 1;
  } else {
    const v = 2 * (1 - u) + 2 * (u - 0.5) * (1 - d2) ** (eta + 1);
    dq = 1 - v ** pow;
  }
  return Math.min(hi, Math.max(lo, x + dq * range));
}
