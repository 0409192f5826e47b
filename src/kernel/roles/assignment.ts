/**
 * Which live member should hold each role of a role set: balanced (per set, counts differ by at most one) and
 * computed by every instance alone from the same inputs (set name, role names, member ids), so no coordination
 * is needed beyond agreeing on the member list. Weights are rendezvous (highest-random-weight) hashes, so when a
 * member joins or leaves most roles keep their holder.
 */

/** A 32-bit hash with good avalanche (FNV-1a, then MurmurHash3's finaliser), unsigned. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // FNV-1a alone mixes its last characters poorly, and member ids differ mostly at the end.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The rendezvous weight of `member` for `key`. */
function weight(key: string, member: string): number {
  return hash32(`${key}\u0000${member}`);
}

/** Orders by weight (highest first), then by name, so every instance sorts ties the same way. */
function byWeight<T extends { w: number; name: string }>(a: T, b: T): number {
  return b.w - a.w || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * Assigns each of `roles` (the shards of one set) to one of `members`. Every member gets ⌊n/m⌋ or ⌈n/m⌉ roles; which
 * members get the extra one is decided by their rendezvous weight for the set (so sets of one role spread over
 * members too). Roles then go, heaviest (role, member) pair first, to members with room left: a stable matching in
 * which a role keeps its member unless that member's room is needed by a heavier pair.
 */
export function assignRoles(set: string, roles: readonly string[], members: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const ids = [...new Set(members)].sort();
  if (ids.length === 0 || roles.length === 0) return out;
  const base = Math.floor(roles.length / ids.length);
  // Members that may take one role beyond `base`; the pairs' weights decide which, so the extras go where the
  // roles' own preferences put them (fewer moves when members come and go than fixing them up front).
  let extra = roles.length % ids.length;
  const count = new Map<string, number>(ids.map((id) => [id, 0]));
  const pairs: { role: string; name: string; w: number }[] = [];
  for (const role of new Set(roles)) for (const name of ids) pairs.push({ role, name, w: weight(role, name) });
  pairs.sort((a, b) => byWeight(a, b) || (a.role < b.role ? -1 : a.role > b.role ? 1 : 0));
  for (const p of pairs) {
    if (out.has(p.role)) continue;
    const c = count.get(p.name)!;
    if (c > base || (c === base && extra === 0)) continue;
    if (c === base) extra--;
    count.set(p.name, c + 1);
    out.set(p.role, p.name);
  }
  return out;
}
