/**
 * Reconnaissance: reads each metric `samples` times at `interval` (stopping early once the readings' coefficient of
 * variation is below `until_cv`) and aggregates them. A source that cannot be read throws: the trial fails rather
 * than record a value that could look best.
 */
import { callHttp, parseDuration, sleepUnlessAborted } from '../../../kernel/index.ts';
import type { Metric, Source } from '../model/source.ts';
import { asNumber, readJsonPath } from './json-path.ts';

/** Reads one value from a source. */
export async function readSource(source: Source, signal: AbortSignal): Promise<number> {
  if (source.http) {
    const s = source.http;
    const answer = await callHttp({ method: 'GET', url: s.url, headers: s.headers, timeoutMs: parseDuration(s.timeout), signal });
    const v = asNumber(readJsonPath(answer, s.path));
    if (v === undefined) throw new Error(`${s.url}: no number at ${s.path}`);
    return v;
  }
  const p = source.prometheus!;
  const url = `${p.url.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(p.query)}`;
  const answer = (await callHttp({ method: 'GET', url, timeoutMs: parseDuration(p.timeout), signal })) as { status?: string; data?: { resultType?: string; result?: unknown } };
  if (answer?.status !== 'success') throw new Error(`prometheus query failed: ${JSON.stringify(answer).slice(0, 200)}`);
  const result = answer.data?.result;
  // Instant vectors answer [{metric, value: [t, "v"]}]; scalars answer [t, "v"].
  const raw = answer.data?.resultType === 'scalar' ? (result as unknown[])?.[1] : (result as { value?: unknown[] }[] | undefined)?.[0]?.value?.[1];
  const v = asNumber(raw);
  if (v === undefined) throw new Error(`prometheus query '${p.query}' returned no number`);
  return v;
}

/** The coefficient of variation of the readings (sd / |mean|); Infinity when the mean is 0 and they vary. */
export function coefficientOfVariation(xs: readonly number[]): number {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  if (sd === 0) return 0;
  return mean === 0 ? Infinity : sd / Math.abs(mean);
}

/** Aggregates readings as the metric asks. */
export function aggregate(xs: readonly number[], how: Metric['aggregate']): number {
  switch (how) {
    case 'mean':
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    case 'median': {
      const s = [...xs].sort((a, b) => a - b);
      const mid = s.length >> 1;
      return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
    }
    case 'min':
      return Math.min(...xs);
    case 'max':
      return Math.max(...xs);
    case 'last':
      return xs[xs.length - 1]!;
  }
}

/** Reads one metric as configured and returns its aggregate. */
export async function reconnoiter(metric: Metric, signal: AbortSignal): Promise<number> {
  const interval = parseDuration(metric.interval);
  const readings: number[] = [];
  for (let i = 0; i < metric.samples; i++) {
    if (i > 0) await sleepUnlessAborted(interval, signal);
    signal.throwIfAborted();
    readings.push(await readSource(metric.source, signal));
    if (metric.until_cv !== undefined && readings.length >= 2 && coefficientOfVariation(readings) < metric.until_cv) break;
  }
  return aggregate(readings, metric.aggregate);
}
