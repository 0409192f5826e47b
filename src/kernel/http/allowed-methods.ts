/**
 * Which methods a path has routes for. Hono answers a known path asked with another method as if the path did not
 * exist (404); a client then cannot tell a typo in the path from a wrong verb. The shell answers 405 with `Allow`
 * from this index instead (RFC 9110 §15.5.6).
 */
import { TrieRouter } from 'hono/router/trie-router';

/** A registered route as Hono lists it in `app.routes`. */
interface RouteEntry {
  method: string;
  path: string;
}

/** Builds the index from the app's routes; call it after every route is mounted. */
export function allowedMethodsOf(routes: readonly RouteEntry[]): (path: string) => string[] {
  const router = new TrieRouter<string>();
  // `ALL` entries are middleware (`use`), which answer no method by themselves; ApiRouter has no `all` verb.
  for (const r of routes) if (r.method !== 'ALL') router.add('ALL', r.path, r.method);
  return (path) => {
    const [matches] = router.match('GET', path) as [[string, unknown][]];
    if (matches.length === 0) return [];
    const methods = new Set(matches.map(([m]) => m));
    // Hono answers HEAD with the GET route (body dropped).
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}
