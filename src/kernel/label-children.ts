/**
 * Label children of prom-client series, cached by their label values. `counter.labels(a, b)` hashes its arguments on
 * every call, which is most of what a counter costs on a hot path (an LLM call, a turn): a module binds the children
 * it needs once per distinct set of values and keeps incrementing those.
 */
export function cachedByLabels<T>(make: (...values: string[]) => T): (...values: string[]) => T {
  const cache = new Map<string, T>();
  return (...values) => {
    const key = values.join('\u0000');
    let child = cache.get(key);
    if (!child) {
      child = make(...values);
      cache.set(key, child);
    }
    return child;
  };
}
