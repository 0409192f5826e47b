/** Crowding distance (Deb 2002): how much room a point of a front has around it; boundary points get Infinity. */

/** Crowding distance of each point of one front (losses per point, all of the same length). */
export function crowdingDistances(losses: readonly (readonly number[])[]): Float64Array {
  const n = losses.length;
  const dist = new Float64Array(n);
  if (n === 0) return dist;
  const m = losses[0]!.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let k = 0; k < m; k++) {
    idx.sort((a, b) => losses[a]![k]! - losses[b]![k]! || a - b);
    const lo = losses[idx[0]!]![k]!;
    const hi = losses[idx[n - 1]!]![k]!;
    dist[idx[0]!] = Infinity;
    dist[idx[n - 1]!] = Infinity;
    if (hi === lo) continue;
    for (let r = 1; r < n - 1; r++) dist[idx[r]!]! += (losses[idx[r + 1]!]![k]! - losses[idx[r - 1]!]![k]!) / (hi - lo);
  }
  return dist;
}
