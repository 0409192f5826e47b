/**
 * NSGA-II's generations, rebuilt from the history alone: the usable finished trials (complete, with values,
 * feasible or not) in history order are cut into chunks of `population_size`; generation g's parents are the
 * best `population_size` of (generation g-1's parents + chunk g-1), by constrained non-dominated rank and then
 * crowding distance (Deb 2002's elitist survival). Computed generations are cached and reused while the chunks
 * they came from are unchanged, so a sample costs one survival step per new generation; a fresh sampler recomputes
 * the same populations from the same trials.
 */
import { crowdingDistances } from './crowding.ts';
import { nonDominatedFronts } from './dominance.ts';
import type { Observed } from './history.ts';

/** A parent: the trial, its rank (0 = first front) and crowding distance within its front. */
export interface Member {
  trial: Observed;
  rank: number;
  crowding: number;
}

/** The best `size` of `pool` by rank, then crowding distance (ties to the older trial). */
export function survivors(pool: readonly Observed[], size: number): Member[] {
  const fronts = nonDominatedFronts(pool.map((t) => ({ loss: t.loss!, violation: t.violation })), true, size);
  const out: Member[] = [];
  fronts.forEach((front, rank) => {
    if (out.length >= size) return;
    const cd = crowdingDistances(front.map((i) => pool[i]!.loss!));
    const members = front.map((i, k) => ({ trial: pool[i]!, rank, crowding: cd[k]! }));
    if (out.length + members.length > size) members.sort((a, b) => b.crowding - a.crowding || a.trial.position - b.trial.position);
    out.push(...members.slice(0, size - out.length));
  });
  return out;
}

/** True when a chunk holds the very same observations as before (observe() hands out the same object while a trial is unchanged). */
function sameChunk(chunk: readonly Observed[], before: readonly Observed[]): boolean {
  if (chunk.length !== before.length) return false;
  for (let i = 0; i < chunk.length; i++) if (chunk[i] !== before[i]) return false;
  return true;
}

/** Caches the parent populations of successive generations. */
export class Generations {
  private chunks: Observed[][] = [];
  private populations: Member[][] = [];

  constructor(private readonly size: number) {}

  /** The current parents (empty while fewer than `size` trials have finished). */
  parents(finished: readonly Observed[]): Member[] {
    const k = Math.floor(finished.length / this.size);
    let valid = 0;
    while (valid < k && valid < this.chunks.length) {
      if (!sameChunk(finished.slice(valid * this.size, (valid + 1) * this.size), this.chunks[valid]!)) break;
      valid++;
    }
    this.chunks.length = valid;
    this.populations.length = valid;
    for (let g = valid; g < k; g++) {
      const chunk = finished.slice(g * this.size, (g + 1) * this.size);
      const previous = g === 0 ? [] : this.populations[g - 1]!.map((m) => m.trial);
      this.populations.push(survivors([...previous, ...chunk], this.size));
      this.chunks.push(chunk);
    }
    return k === 0 ? [] : this.populations[k - 1]!;
  }
}
