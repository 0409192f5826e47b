/**
 * A NUL character (`%00`) in a request's path or query. No route can use one: PostgreSQL text cannot hold it (the
 * lookup fails with a 500 deep inside a module), file paths and argv cannot either. One check for every route, so no
 * module has to remember it.
 */
import { Invalid } from '../errors.ts';

/** Throws 400 naming the query parameter (or `path`) when the URL holds an encoded NUL; a plain scan otherwise. */
export function refuseNulInUrl(url: string): void {
  // `%00` is the only way a NUL reaches a URL; most requests stop at this one scan.
  const at = url.indexOf('%00');
  if (at < 0) return;
  const query = url.indexOf('?');
  if (query < 0 || at < query) throw new Invalid('the request path holds a NUL character (%00)', [{ path: 'path', message: 'must not contain NUL (%00)' }]);
  const names: string[] = [];
  for (const [name, value] of new URLSearchParams(url.slice(query + 1))) {
    if (name.includes('\0') || value.includes('\0')) names.push(`query.${name.replace(/\0/g, '\\0')}`);
  }
  // `%2500`-style text decodes to a literal "%00", which is no NUL; only real ones are refused.
  if (names.length > 0) throw new Invalid('the query holds a NUL character (%00)', names.map((path) => ({ path, message: 'must not contain NUL (%00)' })));
}
