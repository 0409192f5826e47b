/** Small statistics and formatting helpers for benchmark figures. */

/** The median of `xs` (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100): with 20 samples p99 is the largest, which is what we want to show. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length, Math.max(1, rank)) - 1]!;
}

/** A rate or duration with thousands separators and sensible precision. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2;
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Per-round figures as a short list, e.g. "41,200 / 40,950 / 41,730". */
export function formatRounds(xs: readonly number[]): string {
  return xs.map(formatNumber).join(' / ');
}

/** kernel/baseline per round (rounds run back to back, so each pair saw the same machine state), e.g. "0.91 / 0.88". */
export function formatPairedRatios(kernel: readonly number[], baseline: readonly number[]): string {
  return kernel.map((k, i) => (k / baseline[i]!).toFixed(2)).join(' / ');
}
