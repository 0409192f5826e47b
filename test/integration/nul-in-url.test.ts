/**
 * A NUL (`%00`) in a path or query is refused with 400 naming `path` or the query parameter, on every module's routes
 * and the console, before any handler runs (these answered 500 from PostgreSQL's "invalid byte sequence" before).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODULES } from '../../src/main.ts';
import { startTestServer, type TestServer } from '../kit/index.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ modules: MODULES.filter((m) => m.name !== 'workflow') });
}, 180_000);
afterAll(() => t?.stop());

describe('NUL in the URL', () => {
  it.each([
    ['GET', '/api/v1/breeder/breeders/%00'],
    ['DELETE', '/api/v1/breeder/breeders/a%00b'],
    ['POST', '/api/v1/breeder/breeders/%00/start'],
    ['GET', '/api/v1/breeder/credentials/%00'],
    ['GET', '/api/v1/cascades/definitions/%00'],
    ['GET', '/api/v1/cascades/sessions/%00/logs'],
    ['GET', '/api/v1/workflow/runs/%00'],
    ['GET', '/ui/workflow/runs/%00'],
  ])('%s %s answers 400 naming the path', async (method, path) => {
    const res = await fetch(`${t.url}${path}`, { method });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const body = (await res.json()) as { errors: { path: string }[] };
    expect(body.errors.map((e) => e.path)).toEqual(['path']);
  });

  it('names the query parameter that holds it, and lets an encoded "%" followed by 00 through', async () => {
    const res = await fetch(`${t.url}/ui/workflow/runs.json?workflow=a%00&limit=5`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['query.workflow']);
    // "%2500" is the text "%00", not a NUL: it reaches the route (a 404 for a breeder of that name).
    const literal = await fetch(`${t.url}/api/v1/breeder/breeders/x%2500`);
    expect(literal.status).toBe(404);
  });
});
