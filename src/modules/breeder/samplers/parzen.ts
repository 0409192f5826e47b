/**
 * The Parzen estimator of TPE: a weighted mixture of one kernel per observation plus a prior kernel. Each kernel
 * is a product over parameters of a truncated normal (numeric, internal scale; on a grid it gives each grid point
 * the mass of its cell) or a smoothed categorical distribution (Optuna's Aitchison-Aitken style kernel: the
 * observed choice gets 1 + w/n, every choice w/n, normalised; the prior kernel is uniform).
 *
 * Bandwidths: `optuna` gives each kernel the larger distance to its neighbours (Bergstra 2011 / Optuna) with
 * Optuna's magic clip; `scott` gives every kernel of a parameter the same width, factor x weighted standard
 * deviation of the observations x n^(-1/(d+4)) (the normal-reference rule BOHB uses), so the kernels narrow as the
 * good trials concentrate.
 */
import type { Dim, NumericDim } from './encoding.ts';
import { decodeNumeric, encodeNumeric } from './encoding.ts';
import { LOG_SQRT_2PI, logSumExp, normalMass, truncatedNormal } from './normal.ts';
import type { Rng } from './rng.ts';

/** How kernels are built. */
export interface ParzenSettings {
  priorWeight: number;
  bandwidth: 'optuna' | 'scott';
  /** optuna rule: clip widths below at range / min(100, 1 + kernels). */
  magicClip: boolean;
  /** optuna rule: let the outermost kernels' width reach the bounds. */
  endpoints: boolean;
  /** optuna rule: the count the magic clip divides the range by (default: this estimator's kernels, as Optuna). */
  clipCount?: number;
  /** scott rule: multiplier on the normal-reference width. */
  bandwidthFactor: number;
  /** scott rule: smallest width as a fraction of the parameter's range. */
  minBandwidth: number;
}

const EPS = 1e-12;

/** Per numeric parameter: kernel centres, widths and log normalisers (the prior kernel last). */
interface NumericKernels {
  dim: NumericDim;
  mu: Float64Array;
  sigma: Float64Array;
  /** Continuous: -log(σ√2π) - log Z; discrete: -log Z (Z = the kernel's mass inside the bounds). */
  logNorm: Float64Array;
  discrete: boolean;
  /** Grids only: the distinct (mu, sigma) pairs and which pair each kernel uses (many kernels share a grid value). */
  pairs?: { mu: Float64Array; sigma: Float64Array; of: Int32Array };
}

/** Groups kernels with the same centre and width, so a grid cell's mass is computed once per distinct kernel. */
function distinctPairs(mu: Float64Array, sigma: Float64Array): NonNullable<NumericKernels['pairs']> {
  // Keyed by centre (a grid value), then a short list of the widths seen there: one Map and no inner Map per grid
  // value (building those cost a third of g(x)'s construction at 1,000 trials). Pairs keep their first-seen order.
  const index = new Map<number, number[]>();
  const of = new Int32Array(mu.length);
  const m: number[] = [];
  const sg: number[] = [];
  for (let i = 0; i < mu.length; i++) {
    const x = mu[i]!;
    const w = sigma[i]!;
    let seen = index.get(x);
    if (!seen) index.set(x, (seen = []));
    let k = -1;
    for (let q = 0; q < seen.length; q++) if (sg[seen[q]!] === w) k = seen[q]!;
    if (k < 0) {
      k = m.length;
      seen.push(k);
      m.push(x);
      sg.push(w);
    }
    of[i] = k;
  }
  return { mu: Float64Array.from(m), sigma: Float64Array.from(sg), of };
}

/**
 * Per categorical parameter. Every observation's kernel is the same row up to where its extra 1 sits, so rows are
 * kept per observed choice (c of them) instead of per kernel; the prior kernel's row is the last one.
 */
interface CategoricalKernels {
  choices: number;
  /** The observed choice of each kernel; c for the prior kernel. */
  chosen: Int32Array;
  /** (c + 1) rows of c probabilities: row o for a kernel that observed choice o, row c for the prior kernel. */
  prob: Float64Array;
  logProb: Float64Array;
}

/**
 * The rank of each value in ascending order, ties by index (what a stable sort of the indices gives), using the
 * native numeric sort of a typed array and a binary search instead of a comparator sort.
 */
function ranks(values: Float64Array): { sorted: Float64Array; rank: Int32Array } {
  const n = values.length;
  const sorted = Float64Array.from(values).sort();
  const nextFree = new Int32Array(n);
  const rank = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    rank[i] = lo + nextFree[lo]!++;
  }
  return { sorted, rank };
}

/** Widths by the neighbour rule (Bergstra 2011, Optuna's `consider_endpoints` and magic clip). */
function neighbourSigmas(mus: Float64Array, lo: number, hi: number, s: ParzenSettings): Float64Array {
  const n = mus.length;
  const { sorted: inner, rank } = ranks(mus);
  // sorted[r + 1] is the r-th smallest centre, with the bounds at both ends.
  const sorted = new Float64Array(n + 2);
  sorted[0] = lo;
  sorted.set(inner, 1);
  sorted[n + 1] = hi;
  const sig = new Float64Array(n);
  const sortedSig = new Float64Array(n);
  for (let i = 1; i <= n; i++) sortedSig[i - 1] = Math.max(sorted[i]! - sorted[i - 1]!, sorted[i + 1]! - sorted[i]!);
  if (!s.endpoints && sorted.length >= 4) {
    sortedSig[0] = sorted[2]! - sorted[1]!;
    sortedSig[n - 1] = sorted[n]! - sorted[n - 1]!;
  }
  const max = hi - lo;
  const min = s.magicClip ? (hi - lo) / Math.min(100, 1 + (s.clipCount ?? n + 1)) : EPS;
  for (let i = 0; i < n; i++) sig[i] = Math.min(max, Math.max(min, sortedSig[rank[i]!]!));
  return sig;
}

/** Width by the normal-reference rule, shared by all kernels of the parameter. */
function scottSigma(mus: Float64Array, w: Float64Array, lo: number, hi: number, d: number, s: ParzenSettings): number {
  const n = mus.length;
  const range = hi - lo;
  let sd: number;
  if (n < 2) {
    sd = range / Math.sqrt(12); // the spread of the uniform prior: nothing is known yet
  } else {
    let sw = 0;
    let mean = 0;
    for (let i = 0; i < n; i++) {
      sw += w[i]!;
      mean += w[i]! * mus[i]!;
    }
    mean /= sw;
    let v = 0;
    for (let i = 0; i < n; i++) v += w[i]! * (mus[i]! - mean) ** 2;
    sd = Math.sqrt(v / sw);
  }
  const h = s.bandwidthFactor * sd * Math.max(n, 1) ** (-1 / (d + 4));
  const clip = s.magicClip ? range / Math.min(100, 1 + (s.clipCount ?? n + 1)) : 0;
  return Math.min(range, Math.max(s.minBandwidth * range, clip, h));
}

/** The internal cell [a, b] that a grid value stands for. */
function cellOf(dim: NumericDim, x: number): [number, number] {
  const v = dim.log ? Math.exp(x) : x;
  const half = dim.step! / 2;
  return dim.log ? [Math.log(v - half), Math.log(v + half)] : [v - half, v + half];
}

/** A Parzen estimator over some of the space's parameters (all of them for multivariate TPE, one for univariate). */
export class ParzenEstimator {
  private readonly k: number;
  private readonly logW: Float64Array;
  private readonly w: Float64Array;
  private readonly numeric = new Map<number, NumericKernels>();
  private readonly categorical = new Map<number, CategoricalKernels>();

  /**
   * @param obs per dim, the observations' internal values (categorical: choice index)
   * @param weights one non-negative weight per observation (the prior's weight comes from settings)
   */
  constructor(
    private readonly dims: readonly Dim[],
    obs: readonly Float64Array[],
    weights: Float64Array,
    s: ParzenSettings,
  ) {
    const n = weights.length;
    this.k = n + 1;
    this.w = new Float64Array(this.k);
    let total = 0;
    for (let i = 0; i < n; i++) total += (this.w[i] = weights[i]!);
    this.w[n] = n === 0 ? 1 : s.priorWeight;
    total += this.w[n]!;
    this.logW = this.w.map((x) => Math.log(x / total));

    dims.forEach((dim, j) => {
      const o = obs[j]!;
      if (dim.kind === 'categorical') {
        const c = dim.choices.length;
        const base = n === 0 ? 1 : s.priorWeight / this.k;
        const prob = new Float64Array((c + 1) * c);
        for (let r = 0; r <= c; r++) {
          for (let q = 0; q < c; q++) prob[r * c + q] = base;
          if (r < c) prob[r * c + r]! += 1;
          let row = 0;
          for (let q = 0; q < c; q++) row += prob[r * c + q]!;
          for (let q = 0; q < c; q++) prob[r * c + q]! /= row;
        }
        const chosen = new Int32Array(this.k).fill(c);
        for (let i = 0; i < n; i++) chosen[i] = o[i]!;
        this.categorical.set(j, { choices: c, chosen, prob, logProb: prob.map(Math.log) });
        return;
      }
      const { lo, hi } = dim;
      const mu = new Float64Array(this.k);
      mu.set(o);
      mu[n] = 0.5 * (lo + hi);
      let sigma: Float64Array;
      if (s.bandwidth === 'optuna') {
        sigma = new Float64Array(this.k);
        sigma.set(neighbourSigmas(o, lo, hi, s));
      } else {
        sigma = new Float64Array(this.k).fill(scottSigma(o, weights, lo, hi, dims.length, s));
      }
      sigma[n] = hi - lo;
      const discrete = dim.step !== null;
      const logNorm = new Float64Array(this.k);
      for (let i = 0; i < this.k; i++) {
        const z = normalMass((lo - mu[i]!) / sigma[i]!, (hi - mu[i]!) / sigma[i]!);
        logNorm[i] = -Math.log(Math.max(z, EPS)) - (discrete ? 0 : Math.log(sigma[i]!) + LOG_SQRT_2PI);
      }
      this.numeric.set(j, { dim, mu, sigma, logNorm, discrete, ...(discrete ? { pairs: distinctPairs(mu, sigma) } : {}) });
    });
  }

  /**
   * `count` draws from the mixture, per dim (internal values; grid values snapped to the grid). `widen` multiplies
   * the kernels' widths for drawing only (BOHB draws candidates from a wider l(x) than it scores them with).
   */
  sample(rng: Rng, count: number, widen = 1): Float64Array[] {
    const out = this.dims.map(() => new Float64Array(count));
    for (let c = 0; c < count; c++) {
      const i = rng.weighted(this.w);
      this.dims.forEach((dim, j) => {
        const cat = this.categorical.get(j);
        if (cat) {
          const row = cat.chosen[i]! * cat.choices;
          out[j]![c] = rng.weighted(cat.prob.subarray(row, row + cat.choices));
          return;
        }
        const nk = this.numeric.get(j)!;
        const x = truncatedNormal(rng, nk.mu[i]!, Math.min(nk.sigma[i]! * widen, nk.dim.hi - nk.dim.lo), nk.dim.lo, nk.dim.hi);
        out[j]![c] = nk.discrete ? encodeNumeric(nk.dim, decodeNumeric(nk.dim, x)) : x;
      });
    }
    return out;
  }

  /**
   * log density (log mass on grids) of each of `count` points given per dim. One point at a time over all kernels,
   * in a K-long row that stays in cache (a count x K matrix made one pass per dim over 190 KB at 1,000 trials);
   * each kernel's terms are still added in dim order, so the sums are the same to the last bit.
   */
  logPdf(points: readonly Float64Array[], count: number): Float64Array {
    const K = this.k;
    const D = this.dims.length;
    const cats = this.dims.map((_, j) => this.categorical.get(j));
    const nums = this.dims.map((_, j) => this.numeric.get(j));
    // Grids: the log mass of a grid value's cell under each distinct kernel, once per distinct candidate value.
    const cellsOf = this.dims.map(() => new Map<number, Float64Array>());
    const acc = new Float64Array(K);
    const out = new Float64Array(count);
    for (let c = 0; c < count; c++) {
      acc.set(this.logW);
      for (let j = 0; j < D; j++) {
        const x = points[j]![c]!;
        const cat = cats[j];
        if (cat) {
          const { chosen, logProb, choices } = cat;
          for (let i = 0; i < K; i++) acc[i]! += logProb[chosen[i]! * choices + x]!;
          continue;
        }
        const { mu, sigma, logNorm, discrete, dim, pairs } = nums[j]!;
        if (discrete) {
          const { mu: pm, sigma: ps, of } = pairs!;
          const cells = cellsOf[j]!;
          let cellLog = cells.get(x);
          if (!cellLog) {
            cellLog = new Float64Array(pm.length);
            const [a, b] = cellOf(dim, x);
            for (let u = 0; u < pm.length; u++) {
              const s = ps[u]!;
              cellLog[u] = Math.log(Math.max(normalMass((a - pm[u]!) / s, (b - pm[u]!) / s), 1e-300));
            }
            cells.set(x, cellLog);
          }
          for (let i = 0; i < K; i++) acc[i]! += cellLog[of[i]!]! + logNorm[i]!;
        } else {
          for (let i = 0; i < K; i++) {
            const z = (x - mu[i]!) / sigma[i]!;
            acc[i]! += logNorm[i]! - 0.5 * z * z;
          }
        }
      }
      out[c] = logSumExp(acc, 0, K);
    }
    return out;
  }
}
