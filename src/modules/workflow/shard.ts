/** Shard selection: an UNSIGNED hash of the run id, so no run falls outside 0..n-1 (signed modulo drops events). */

/** FNV-1a 32-bit hash as an unsigned integer. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The shard (0-based) that owns `runId` among `n`. */
export function shardOf(runId: string, n: number): number {
  return fnv1a(runId) % n;
}
