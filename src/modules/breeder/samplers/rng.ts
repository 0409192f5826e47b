/**
 * A small seeded PRNG (sfc32, seeded through a murmur3-style mix of every key). A sampler makes a fresh one per
 * request from (seed, trial number, purpose), so no random state lives between requests.
 */

/** Mixes 32-bit words into one well-spread 32-bit word (murmur3 finaliser per word). */
export function mix32(words: readonly number[]): number {
  let h = 0x9e3779b9 ^ words.length;
  for (const w of words) {
    let k = Math.imul(w | 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Splits numbers (integers up to 2^53, or any finite number) into 32-bit words so that distinct keys give distinct words. */
function wordsOf(keys: readonly number[]): number[] {
  const out: number[] = [];
  for (const k of keys) {
    if (Number.isInteger(k) && Math.abs(k) <= Number.MAX_SAFE_INTEGER) {
      out.push(k >>> 0, Math.floor(k / 4294967296) >>> 0);
    } else {
      const f = new Float64Array([k]);
      const u = new Uint32Array(f.buffer);
      out.push(u[0]!, u[1]!);
    }
  }
  return out;
}

/** Deterministic random numbers from a list of integer keys, e.g. `new Rng(seed, trialNumber, STREAM_TPE)`. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | null = null;

  constructor(...keys: number[]) {
    const w = wordsOf(keys);
    this.a = mix32([...w, 1]);
    this.b = mix32([...w, 2]);
    this.c = mix32([...w, 3]);
    this.d = mix32([...w, 4]);
    for (let i = 0; i < 12; i++) this.next32();
  }

  /** The next 32 random bits as an unsigned integer (sfc32). */
  next32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.next32() >>> 5;
    const lo = this.next32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in (0, 1): never exactly 0, for logs and inverse CDFs. */
  open01(): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    return u;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.uniform() * n));
  }

  /** Standard normal (Marsaglia's polar method, caching the second value). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * Math.log(s)) / s);
        this.spare = v * f;
        return u * f;
      }
    }
  }

  /** An index drawn with probability proportional to weights (non-negative, not all zero). */
  weighted(weights: ArrayLike<number>, total?: number): number {
    let sum = total ?? 0;
    if (total === undefined) for (let i = 0; i < weights.length; i++) sum += weights[i]!;
    let r = this.uniform() * sum;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
}

/** Stream ids, so that different uses of the same (seed, number) draw independent streams. */
export const STREAM = { random: 1, tpe: 2, nsga2: 3, qmc: 4, grid: 5 } as const;
