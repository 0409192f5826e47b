/** Reads how long a provider asks us to wait: `retry-after-ms` (OpenAI), else `Retry-After` in seconds or as an HTTP date. */

/** Milliseconds to wait, or undefined when the headers say nothing usable. `now` is the wall clock in ms (for dates). */
export function retryAfterMs(headers: Headers, now: number = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.max(0, Math.round(Number(ms)));
  const raw = headers.get('retry-after');
  if (raw === null) return undefined;
  const value = raw.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.max(0, Math.round(Number(value) * 1000));
  // An HTTP date has a weekday and month names; anything else (`-3`, `soon`) is not something Date.parse should guess at.
  const date = /[a-z]{3}/i.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
