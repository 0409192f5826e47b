/** Reads `$.a.b[0]` out of a JSON value: names and indexes only, own properties only. */

/** The value at `path` in `doc`, or undefined when a step is missing. */
export function readJsonPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const m of path.slice(1).matchAll(/\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]/g)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const key = m[1] ?? Number(m[2]);
    if (typeof key === 'number' ? !Array.isArray(cur) : Array.isArray(cur)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, key)) return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}

/** A reading as a finite number: numbers, and numeric strings (Prometheus sends values as strings). */
export function asNumber(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}
