/**
 * Unknown query parameters are refused (400 naming each one) on every route declared through defineRoute: a caller
 * who writes `?limt=5` otherwise gets the default page size and never learns of the typo. A route's parameters are
 * those of its `request.query` schema and its documented `parameters` (in: query); a route whose query schema takes
 * any key (looseObject, passthrough, catchall, or not an object at all) is left alone.
 */
import type { RouteConfig } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { Invalid } from '../errors.ts';

/** The query names a route declares, or undefined when it takes free-form parameters. */
export function declaredQueryNames(route: RouteConfig): Set<string> | undefined {
  const names = new Set<string>();
  const query = route.request?.query as { shape?: Record<string, unknown>; _zod?: { def?: { catchall?: { _zod?: { def?: { type?: string } } } } } } | undefined;
  if (query) {
    if (!query.shape) return undefined;
    const catchall = query._zod?.def?.catchall;
    // strictObject's catchall is `never`; a loose object's is `unknown` (or any other schema): free-form.
    if (catchall && catchall._zod?.def?.type !== 'never') return undefined;
    for (const k of Object.keys(query.shape)) names.add(k);
  }
  for (const p of route.parameters ?? []) {
    const param = p as { in?: string; name?: string };
    if (param.in === 'query' && param.name) names.add(param.name);
  }
  return names;
}

/** The parameter names of a raw query string, decoded as Hono decodes them ('+' is a space); empty names skipped. */
function namesIn(search: string): string[] {
  const out: string[] = [];
  for (const part of search.split('&')) {
    const eq = part.indexOf('=');
    const raw = eq < 0 ? part : part.slice(0, eq);
    if (!raw) continue;
    let name = raw.includes('+') ? raw.replace(/\+/g, ' ') : raw;
    if (name.includes('%')) {
      try {
        name = decodeURIComponent(name);
      } catch {
        // Left as sent: Hono keeps an undecodable name too, and the error names it as the client wrote it.
      }
    }
    out.push(name);
  }
  return out;
}

/** A check that throws Invalid naming each unknown query parameter, or undefined for a free-form route. */
export function queryGuard(route: RouteConfig): ((c: Context) => void) | undefined {
  const known = declaredQueryNames(route);
  if (!known) return undefined;
  const takes = known.size > 0 ? `this operation takes: ${[...known].sort().join(', ')}` : 'this operation takes no query parameters';
  return (c) => {
    const url = c.req.raw.url;
    const q = url.indexOf('?');
    if (q < 0) return;
    const hash = url.indexOf('#', q);
    const unknown = namesIn(url.slice(q + 1, hash < 0 ? undefined : hash)).filter((n) => !known.has(n));
    if (unknown.length === 0) return;
    throw new Invalid(`unknown query parameter${unknown.length > 1 ? 's' : ''}: ${[...new Set(unknown)].join(', ')}`, [...new Set(unknown)].map((n) => ({ path: `query.${n}`, message: `unknown parameter; ${takes}` })));
  };
}
