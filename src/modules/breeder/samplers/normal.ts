/** The normal distribution pieces the Parzen estimator needs: erfc, the mass between two points, truncated sampling. */
import type { Rng } from './rng.ts';

const SQRT1_2 = Math.SQRT1_2;
/** log(sqrt(2π)). */
export const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Complementary error function (Chebyshev fit, relative error below 1.2e-7 everywhere). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(a < Z < b) for a standard normal Z, computed on the side that keeps precision in the tails. */
export function normalMass(a: number, b: number): number {
  // Both bounds over 9 widths away: each tail is below 1e-19, so the formula below gives exactly 1 in doubles; most
  // of g(x)'s narrow kernels are like this, and skipping their two exp calls is a visible part of a sample's cost.
  if (a <= -9 && b >= 9) return 1;
  if (a >= 0) return 0.5 * (erfc(a * SQRT1_2) - erfc(b * SQRT1_2));
  if (b <= 0) return 0.5 * (erfc(-b * SQRT1_2) - erfc(-a * SQRT1_2));
  return 1 - 0.5 * erfc(b * SQRT1_2) - 0.5 * erfc(-a * SQRT1_2);
}

/**
 * A draw from N(mu, sigma) truncated to [lo, hi]. The samplers only put centres inside [lo, hi] and cap sigma at
 * hi - lo, so at least a third of the draws land inside; rejection is exact and the loop ends quickly.
 */
export function truncatedNormal(rng: Rng, mu: number, sigma: number, lo: number, hi: number): number {
  for (let i = 0; i < 1000; i++) {
    const x = mu + sigma * rng.normal();
    if (x >= lo && x <= hi) return x;
  }
  return Math.min(hi, Math.max(lo, mu));
}

/** log(sum(exp(xs))) over a slice, stable for large and -Infinity terms. */
export function logSumExp(xs: Float64Array, from: number, to: number): number {
  let max = -Infinity;
  for (let i = from; i < to; i++) if (xs[i]! > max) max = xs[i]!;
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let i = from; i < to; i++) {
    const d = xs[i]! - max;
    // exp of anything below -746 is exactly 0 in doubles: skipping it changes nothing and saves most exp calls
    // when a point is far from most kernels.
    if (d > -746) s += Math.exp(d);
  }
  return max + Math.log(s);
}
