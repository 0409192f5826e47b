/**
 * The Parzen estimator of TPE: a weighted mixture of one kernel per observation plus a prior kernel. Each kernel
 * is a product over parameters of a truncated normal (numeric, internal scale; on a grid it gives each grid point
 * the mass of its cell) or a smoothed categorical distribution (Optuna's Aitchison-Aitken style kernel: the
 * observed choice gets 1 + w/n, every choice w/n, normalised; the prior kernel is uniform).
 *
 * Bandwidths: `optuna` gives each kernel the larger distance to its neighbours (Bergstra 2011 / Optuna) with
 * Optuna's magic clip; `scott` gives every kernel of a parameter the same width, factor x weighted standard
 * deviation of the observations x n^(-1/(d+4)) (the normal-reference rule BOHB uses), so the kernels narrow as the
 * good trials concentrate; `iqr` is the rule of the reference TPE of optuna issue #2871 (see iqrWidth).
 */
import type { Dim, NumericDim } from './encoding.ts';
import { decodeNumeric, encodeNumeric } from './encoding.ts';
import { LOG_SQRT_2PI, logSumExp, normalMass, truncatedNormal } from './normal.ts';
import type { Rng } from './rng.ts';

/** How kernels are built. */
export interface ParzenSettings {
  priorWeight: number;
  bandwidth: 'optuna' | 'scott' | 'iqr';
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

/**
 * `buf` if it holds at least n values, else a new buffer of at least n (grown by half at least, so a history that
 * grows one trial at a time reallocates rarely). An estimator updated in place keeps its arrays this way, with a
 * capacity above its kernel count: every loop below runs to the kernel count, never to an array's length.
 */
function fitF64(buf: Float64Array | undefined, n: number): Float64Array {
  return buf && buf.length >= n ? buf : new Float64Array(Math.max(n, Math.ceil((buf?.length ?? 0) * 1.5)));
}
function fitI32(buf: Int32Array | undefined, n: number): Int32Array {
  return buf && buf.length >= n ? buf : new Int32Array(Math.max(n, Math.ceil((buf?.length ?? 0) * 1.5)));
}

/** Per numeric parameter: kernel centres, widths and log normalisers (the prior kernel last). */
interface NumericKernels {
  dim: NumericDim;
  mu: Float64Array;
  sigma: Float64Array;
  /** Continuous: -log(σ√2π) - log Z; discrete: -log Z (Z = the kernel's mass inside the bounds). */
  logNorm: Float64Array;
  discrete: boolean;
  /** Neighbour widths only: the observation kernels' indices by ascending centre, ties by index (kept for update). */
  order?: Int32Array;
  /** Grids only: the distinct (mu, sigma) pairs and which pair each kernel uses. */
  pairs?: GridPairs;
  /** update: the arrays of the update before last, written over by the next one (the current ones are read while it runs). */
  spare?: { mu: Float64Array; sigma: Float64Array; logNorm: Float64Array; order: Int32Array };
}

/**
 * Grids only: the distinct (centre, width) pairs of a parameter's kernels, which pair each kernel uses (many kernels
 * share a grid value), and per grid value the log mass of its cell under each pair, computed once and kept across
 * proposals (pairs are never changed, only added, so a mass once computed stays right). An estimator updated in
 * place keeps its pairs and adds those it has not seen; when most of them are no longer used, it starts anew.
 */
class GridPairs {
  readonly mu: number[] = [];
  readonly sigma: number[] = [];
  /** Pairs by centre (a grid value), then a short list of the widths seen there. */
  private readonly index = new Map<number, number[]>();
  private readonly cells = new Map<number, number[]>();
  of: Int32Array = new Int32Array(0);
  /** The `of` of the update before last, reused by extendPairs. */
  spareOf: Int32Array | undefined;

  constructor(readonly dim: NumericDim) {}

  /** The pair of this centre and width, added if new. */
  pairOf(x: number, w: number): number {
    let seen = this.index.get(x);
    if (!seen) this.index.set(x, (seen = []));
    for (let q = 0; q < seen.length; q++) if (this.sigma[seen[q]!] === w) return seen[q]!;
    const k = this.mu.length;
    seen.push(k);
    this.mu.push(x);
    this.sigma.push(w);
    return k;
  }

  /** log mass of the cell of grid value x under each pair. */
  cellLogs(x: number): number[] {
    let out = this.cells.get(x);
    if (!out) {
      // Candidates come from l(x), so few grid values are asked for; a bound keeps a fine grid's cache small anyway.
      if (this.cells.size >= 1024) this.cells.clear();
      this.cells.set(x, (out = []));
    }
    if (out.length < this.mu.length) {
      const [a, b] = cellOf(this.dim, x);
      for (let u = out.length; u < this.mu.length; u++) {
        const s = this.sigma[u]!;
        out.push(Math.log(Math.max(normalMass((a - this.mu[u]!) / s, (b - this.mu[u]!) / s), 1e-300)));
      }
    }
    return out;
  }
}

/** The pairs of the first k kernels, made anew. */
function distinctPairs(dim: NumericDim, mu: Float64Array, sigma: Float64Array, k: number): GridPairs {
  const p = new GridPairs(dim);
  p.of = new Int32Array(k);
  for (let i = 0; i < k; i++) p.of[i] = p.pairOf(mu[i]!, sigma[i]!);
  return p;
}

/**
 * `old`'s pairs carried over to kernels whose centres and widths are now `mu` and `sigma`; `oldOf[i]` is kernel i's
 * index before (-1 for a new kernel, whose centre is new too), and a kernel keeps its pair unless its width changed.
 * Pairs no kernel uses any more stay until they are many; then the list is made anew.
 */
function extendPairs(old: GridPairs, oldSigma: Float64Array, mu: Float64Array, sigma: Float64Array, oldOf: Int32Array, k: number): GridPairs {
  if (old.mu.length > 2 * k + 64) return distinctPairs(old.dim, mu, sigma, k);
  const of = fitI32(old.spareOf, k);
  const n = k - 1; // oldOf covers the observation kernels; the prior kernel (index n) is new to the list
  for (let i = 0; i < k; i++) {
    const was = i < n ? oldOf[i]! : -1;
    of[i] = was >= 0 && sigma[i] === oldSigma[was] ? old.of[was]! : old.pairOf(mu[i]!, sigma[i]!);
  }
  old.spareOf = old.of;
  old.of = of;
  return old;
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
  /** update: the `chosen` of the update before last, written over by the next one. */
  spareChosen?: Int32Array;
}

/** A categorical parameter's kernels: `chosen` per kernel (c for the prior, kernel n), rows by Aitchison-Aitken. */
function categoricalRows(c: number, chosen: Int32Array, n: number, s: ParzenSettings): CategoricalKernels {
  const base = n === 0 ? 1 : s.priorWeight / (n + 1);
  const prob = new Float64Array((c + 1) * c);
  for (let r = 0; r <= c; r++) {
    for (let q = 0; q < c; q++) prob[r * c + q] = base;
    if (r < c) prob[r * c + r]! += 1;
    let row = 0;
    for (let q = 0; q < c; q++) row += prob[r * c + q]!;
    for (let q = 0; q < c; q++) prob[r * c + q]! /= row;
  }
  return { choices: c, chosen, prob, logProb: prob.map(Math.log) };
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

/**
 * Width by the rule of the reference TPE in optuna issue #2871 (the "BOHB TPE" figures): 1.059 x min(IQR, sample sd)
 * x (n + 1)^(-1/5) over the observations' centres AND the middle of the range (the prior's centre), clipped to
 * [1 %, 50 %] of the range. Counting the middle makes kernels narrow when the good trials sit near the middle of the
 * range and wide when they sit away from it: on the published setup (optima at or near the middle) it beats every
 * other rule here, and on the same functions with shifted optima it is 2-5 times worse than `scott` (bench/RESULTS.md).
 */
export function iqrWidth(mus: ArrayLike<number>, lo: number, hi: number): number {
  const n = mus.length + 1;
  const all = new Float64Array(n);
  for (let i = 0; i < n - 1; i++) all[i] = mus[i]!;
  all[n - 1] = 0.5 * (lo + hi);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += all[i]!;
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (all[i]! - mean) ** 2;
  const sd = Math.sqrt(v / Math.max(n - 1, 1));
  all.sort();
  // Quantiles by linear interpolation between order statistics (numpy's default).
  const q = (p: number) => {
    const at = p * (n - 1);
    const i = Math.floor(at);
    return all[i]! + (all[Math.min(i + 1, n - 1)]! - all[i]!) * (at - i);
  };
  const range = hi - lo;
  const h = 1.059 * Math.min(q(0.75) - q(0.25), sd) * n ** -0.2;
  return Math.min(0.5 * range, Math.max(0.01 * range, h));
}

/** The internal cell [a, b] that a grid value stands for. */
function cellOf(dim: NumericDim, x: number): [number, number] {
  const v = dim.log ? Math.exp(x) : x;
  const half = dim.step! / 2;
  return dim.log ? [Math.log(v - half), Math.log(v + half)] : [v - half, v + half];
}

/** Centres in ascending order, ties by index (what a stable sort of the kernel indices gives). */
function orderOf(mus: Float64Array, n: number): Int32Array {
  const { rank } = ranks(mus.subarray(0, n));
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[rank[i]!] = i;
  return order;
}

/**
 * Widths by the neighbour rule (Bergstra 2011, Optuna's `consider_endpoints` and magic clip) for the n observation
 * kernels whose centres are `mu[order[0]] <= mu[order[1]] <= ...`, written into `sig[0..n)`.
 */
function neighbourSigmas(mu: Float64Array, order: Int32Array, n: number, lo: number, hi: number, s: ParzenSettings, sig: Float64Array): void {
  // sorted[r + 1] is the r-th smallest centre, with the bounds at both ends (a scratch buffer: used only here).
  const sorted = (sortedScratch = fitF64(sortedScratch, n + 2));
  sorted[0] = lo;
  for (let r = 0; r < n; r++) sorted[r + 1] = mu[order[r]!]!;
  sorted[n + 1] = hi;
  const max = hi - lo;
  const min = s.magicClip ? (hi - lo) / Math.min(100, 1 + (s.clipCount ?? n + 1)) : EPS;
  for (let r = 0; r < n; r++) {
    const w = Math.max(sorted[r + 1]! - sorted[r]!, sorted[r + 2]! - sorted[r + 1]!);
    sig[order[r]!] = Math.min(max, Math.max(min, w));
  }
  if (!s.endpoints && n >= 2) {
    sig[order[0]!] = Math.min(max, Math.max(min, sorted[2]! - sorted[1]!));
    sig[order[n - 1]!] = Math.min(max, Math.max(min, sorted[n]! - sorted[n - 1]!));
  }
}

let sortedScratch: Float64Array | undefined;

/** -log Z for a kernel (continuous: also -log(σ√2π)); Z = its mass inside the bounds. */
function logNormOf(lo: number, hi: number, mu: number, sigma: number, discrete: boolean): number {
  const z = normalMass((lo - mu) / sigma, (hi - mu) / sigma);
  return -Math.log(Math.max(z, EPS)) - (discrete ? 0 : Math.log(sigma) + LOG_SQRT_2PI);
}

/** A Parzen estimator over some of the space's parameters (all of them for multivariate TPE, one for univariate). */
export class ParzenEstimator {
  private k: number;
  private logW: Float64Array;
  /** logW's first k values (a view when logW has room to spare), for logPdf's block copy. */
  private logWk: Float64Array = new Float64Array(0);
  private w: Float64Array;
  private readonly numeric = new Map<number, NumericKernels>();
  private readonly categorical = new Map<number, CategoricalKernels>();
  private settings: ParzenSettings;
  /** The observations' keys (the first k - 1), for update (none: this estimator is never updated). */
  private keys: Float64Array | undefined;
  /** update's scratch: the keys of the update before last, and the old-to-new and new-to-old kernel indices. */
  private spareKeys: Float64Array | undefined;
  private newOf: Int32Array | undefined;
  private oldOf: Int32Array | undefined;
  /** logPdf's row of per-kernel sums, kept between calls. */
  private acc: Float64Array | undefined;

  /**
   * @param obs per dim, the observations' internal values (categorical: choice index)
   * @param weights one non-negative weight per observation (the prior's weight comes from settings)
   */
  constructor(
    private readonly dims: readonly Dim[],
    obs: readonly Float64Array[],
    weights: Float64Array,
    s: ParzenSettings,
    keys?: ArrayLike<number>,
  ) {
    const n = weights.length;
    this.settings = s;
    this.keys = keys ? Float64Array.from(keys) : undefined;
    this.k = n + 1;
    this.w = new Float64Array(0);
    this.logW = this.w;
    this.setWeights(weights, s);

    dims.forEach((dim, j) => {
      const o = obs[j]!;
      if (dim.kind === 'categorical') {
        const chosen = new Int32Array(this.k).fill(dim.choices.length);
        for (let i = 0; i < n; i++) chosen[i] = o[i]!;
        this.categorical.set(j, categoricalRows(dim.choices.length, chosen, n, s));
        return;
      }
      const { lo, hi } = dim;
      const mu = new Float64Array(this.k);
      mu.set(o);
      mu[n] = 0.5 * (lo + hi);
      let sigma: Float64Array;
      let order: Int32Array | undefined;
      if (s.bandwidth === 'optuna') {
        sigma = new Float64Array(this.k);
        order = orderOf(mu, n);
        neighbourSigmas(mu, order, n, lo, hi, s, sigma);
      } else {
        sigma = new Float64Array(this.k).fill(s.bandwidth === 'iqr' ? iqrWidth(o, lo, hi) : scottSigma(o, weights, lo, hi, dims.length, s));
      }
      sigma[n] = hi - lo;
      const discrete = dim.step !== null;
      const logNorm = new Float64Array(this.k);
      for (let i = 0; i < this.k; i++) logNorm[i] = logNormOf(lo, hi, mu[i]!, sigma[i]!, discrete);
      this.numeric.set(j, { dim, mu, sigma, logNorm, discrete, order, ...(discrete ? { pairs: distinctPairs(dim, mu, sigma, this.k) } : {}) });
    });
  }

  /** The mixture weights: each observation's, then the prior kernel's (log: normalised). */
  private setWeights(weights: Float64Array, s: ParzenSettings): void {
    const n = weights.length;
    // Written in place: nothing reads the old weights once the new ones are asked for.
    const w = (this.w = fitF64(this.w, n + 1));
    const logW = (this.logW = fitF64(this.logW, n + 1));
    let total = 0;
    for (let i = 0; i < n; i++) total += (w[i] = weights[i]!);
    w[n] = n === 0 ? 1 : s.priorWeight;
    total += w[n]!;
    for (let i = 0; i <= n; i++) logW[i] = Math.log(w[i]! / total);
    this.logWk = logW.length === n + 1 ? logW : logW.subarray(0, n + 1);
  }

  /**
   * Makes this estimator, in place, the one the constructor would build from `obs` and `weights`, reusing what did
   * not change: TPE's g(x) sees the same bad trials from one proposal to the next, plus the newest, minus one that
   * moved to the good group, plus one pushed out of it. `keys` name the observations (strictly ascending: TPE passes
   * the trials' history positions), and an observation whose key was here before must have the same values; neighbour
   * widths (the only rule for which this pays) change only next to an inserted or removed centre, or for all when
   * the magic clip's count moves, so only kernels whose width changed get a new normaliser, and the centres' sorted
   * order is kept (a new centre goes where a stable sort by value would put its index). Answers false, changing
   * nothing, when it cannot (other settings, keys out of order, values changed under a key): build anew then.
   * Densities are the same to the last bit as a new estimator's (tested). The arrays of the update before last are
   * written over (two sets per parameter, swapped), so a long run of updates allocates almost nothing.
   */
  update(obs: readonly Float64Array[], weights: Float64Array, s: ParzenSettings, keys: ArrayLike<number>): boolean {
    const old = this.settings;
    const oldKeys = this.keys;
    if (!oldKeys || s.bandwidth !== 'optuna' || old.bandwidth !== 'optuna' || s.priorWeight !== old.priorWeight || s.magicClip !== old.magicClip || s.endpoints !== old.endpoints) return false;
    const nOld = this.k - 1;
    const n = weights.length;
    if (nOld === 0 || n === 0 || keys.length !== n) return false;
    // Match old kernels to new observations by key (both ascending): newOf[old index] = new index, or -1 if gone.
    const newOf = (this.newOf = fitI32(this.newOf, nOld));
    const oldOf = (this.oldOf = fitI32(this.oldOf, n));
    newOf.fill(-1, 0, nOld);
    oldOf.fill(-1, 0, n);
    let kept = 0;
    for (let i = 0, j = 0; j < n; j++) {
      if (j > 0 && !(keys[j]! > keys[j - 1]!)) return false;
      while (i < nOld && oldKeys[i]! < keys[j]!) i++;
      if (i < nOld && oldKeys[i] === keys[j]) {
        newOf[i] = j;
        oldOf[j] = i;
        kept++;
        i++;
      }
    }
    if (kept * 2 < n) return false; // mostly new: building is as cheap
    for (let d = 0; d < this.dims.length; d++) {
      const o = obs[d]!;
      const cat = this.categorical.get(d);
      const prev = cat ? cat.chosen : this.numeric.get(d)!.mu;
      for (let j = 0; j < n; j++) if (oldOf[j]! >= 0 && prev[oldOf[j]!] !== o[j]) return false;
    }
    this.settings = s;
    const newKeys = (this.spareKeys = fitF64(this.spareKeys, n));
    for (let j = 0; j < n; j++) newKeys[j] = keys[j]!;
    this.spareKeys = oldKeys;
    this.keys = newKeys;
    this.k = n + 1;
    this.setWeights(weights, s);
    for (let d = 0; d < this.dims.length; d++) {
      const o = obs[d]!;
      const cat = this.categorical.get(d);
      if (cat) {
        const chosen = fitI32(cat.spareChosen, this.k);
        for (let i = 0; i < n; i++) chosen[i] = o[i]!;
        chosen[n] = cat.choices;
        const next = categoricalRows(cat.choices, chosen, n, s);
        next.spareChosen = cat.chosen;
        this.categorical.set(d, next);
        continue;
      }
      const nk = this.numeric.get(d)!;
      const { lo, hi } = nk.dim;
      const spare = nk.spare;
      const mu = fitF64(spare?.mu, this.k);
      for (let j = 0; j < n; j++) mu[j] = o[j]!;
      mu[n] = 0.5 * (lo + hi);
      // The kept centres in their old order under their new indices, then each new one inserted before the first
      // centre that is greater, or equal with a greater index.
      const order = fitI32(spare?.order, n);
      let len = 0;
      for (let r = 0; r < nOld; r++) {
        const j = newOf[nk.order![r]!]!;
        if (j >= 0) order[len++] = j;
      }
      for (let j = 0; j < n; j++) {
        if (oldOf[j]! >= 0) continue;
        const v = mu[j]!;
        let a = 0;
        let b = len;
        while (a < b) {
          const mid = (a + b) >>> 1;
          const u = order[mid]!;
          if (mu[u]! > v || (mu[u] === v && u > j)) b = mid;
          else a = mid + 1;
        }
        order.copyWithin(a + 1, a, len);
        order[a] = j;
        len++;
      }
      const sigma = fitF64(spare?.sigma, this.k);
      neighbourSigmas(mu, order, n, lo, hi, s, sigma);
      sigma[n] = hi - lo;
      const logNorm = fitF64(spare?.logNorm, this.k);
      for (let j = 0; j < n; j++) {
        const i = oldOf[j]!;
        logNorm[j] = i >= 0 && sigma[j] === nk.sigma[i] ? nk.logNorm[i]! : logNormOf(lo, hi, mu[j]!, sigma[j]!, nk.discrete);
      }
      logNorm[n] = nk.logNorm[nOld]!; // the prior kernel: same centre and width
      const pairs = nk.discrete ? extendPairs(nk.pairs!, nk.sigma, mu, sigma, oldOf, this.k) : undefined;
      const next: NumericKernels = { dim: nk.dim, mu, sigma, logNorm, discrete: nk.discrete, order, spare: { mu: nk.mu, sigma: nk.sigma, logNorm: nk.logNorm, order: nk.order! } };
      if (pairs) next.pairs = pairs;
      this.numeric.set(d, next);
    }
    return true;
  }

  /**
   * `count` draws from the mixture, per dim (internal values; grid values snapped to the grid). `widen` multiplies
   * the kernels' widths for drawing only (BOHB draws candidates from a wider l(x) than it scores them with).
   */
  sample(rng: Rng, count: number, widen = 1): Float64Array[] {
    const out = this.dims.map(() => new Float64Array(count));
    const w = this.w.length === this.k ? this.w : this.w.subarray(0, this.k);
    for (let c = 0; c < count; c++) {
      const i = rng.weighted(w);
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
    const acc = (this.acc = fitF64(this.acc, K));
    const out = new Float64Array(count);
    for (let c = 0; c < count; c++) {
      acc.set(this.logWk);
      for (let j = 0; j < D; j++) {
        const x = points[j]![c]!;
        const cat = cats[j];
        if (cat) {
          const { chosen, logProb, choices } = cat;
          for (let i = 0; i < K; i++) acc[i]! += logProb[chosen[i]! * choices + x]!;
          continue;
        }
        const { mu, sigma, logNorm, discrete, pairs } = nums[j]!;
        if (discrete) {
          // Grids: the log mass of the value's cell under each distinct kernel (kept by the pairs across calls).
          const cellLog = pairs!.cellLogs(x);
          const of = pairs!.of;
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
