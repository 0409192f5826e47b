/** Shard selection: an UNSIGNED hash of a key (a run id, a trial id), so no key falls outside 0..n-1 (signed modulo drops events). */

/** FNV-1a 32-bit hash as an unsigned integer. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The shard (0-based) that owns `key` among `n`. */
export function shardOf(key: string, n: number): number {
  return fnv1a(key) % n;
}
