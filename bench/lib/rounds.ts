/** Runs kernel and baseline measurements in alternating order, so drift (GC, page cache, server state) hits both. */

/** Runs every measurement once per round, reversing the order on odd rounds; returns each one's figures in round order. */
export async function alternate<K extends string>(rounds: number, measure: Record<K, () => Promise<number>>, onRound?: (round: number, figures: Record<K, number>) => void): Promise<Record<K, number[]>> {
  const keys = Object.keys(measure) as K[];
  const out = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? keys : [...keys].reverse();
    const figures = {} as Record<K, number>;
    for (const k of order) {
      figures[k] = await measure[k]();
      out[k].push(figures[k]);
    }
    onRound?.(r + 1, figures);
  }
  return out;
}
