/** The kernel's input rules: durations, retry delays, storable text and JSON, unsafe and repeated keys, zod fields, pagination, shards. */
import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import {
  Invalid,
  assertStorable,
  cutPage,
  decodeCursor,
  duplicateJsonKeys,
  encodeCursor,
  formatDuration,
  isoDate,
  nextRetryDelayMs,
  pageLimit,
  pageLimitParam,
  parseDuration,
  shardOf,
  storableIssues,
  storableJson,
  storableText,
  unsafeKeyIssues,
  namedUnder,
  zodIssues,
} from '../../src/kernel/index.ts';

/** The Invalid a call throws. */
function invalid(fn: () => unknown): Invalid {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Invalid);
    return err as Invalid;
  }
  throw new Error('expected an Invalid');
}

describe('durations', () => {
  it('turns every unit into milliseconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('0s')).toBe(0);
    expect(formatDuration(1_800_000)).toBe('30m');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(1500)).toBe('1500ms');
  });

  it('explains what is wrong and where', () => {
    for (const bad of ['30', '1.5h', '-1s', '2w', '', 's', '1 h', '30mins', '1e3s']) {
      const err = (() => {
        try {
          parseDuration(bad, 'states.a.timeout.after');
        } catch (e) {
          return e as Invalid;
        }
        throw new Error(`'${bad}' was accepted`);
      })();
      expect(err).toBeInstanceOf(Invalid);
      expect(err.issues[0]!.path).toBe('states.a.timeout.after');
      expect(err.issues[0]!.message).toContain('is not a duration');
    }
    expect(() => parseDuration('400d')).toThrow(/longer than the maximum/);
    expect(() => parseDuration(30 as unknown as string)).toThrow(Invalid);
    expect(() => parseDuration(`${'9'.repeat(100_000)}s`)).toThrow(/not a duration/);
  });

  it('gives retry delays that double up to the last attempt', () => {
    const policy = { attempts: 4, backoffMs: 1000 };
    expect([1, 2, 3, 4].map((n) => nextRetryDelayMs(policy, n))).toEqual([1000, 2000, 4000, null]);
    expect(nextRetryDelayMs({ attempts: 100, backoffMs: 86_400_000 }, 50)).toBe(3_600_000);
  });
});

describe('storable values', () => {
  it('names every string or key PostgreSQL cannot store, and nesting beyond the bound', () => {
    expect(storableIssues({ a: ['ok', 'x\u0000y'], 'k\uD800': 1, deep: { s: '\uDC00' } })).toEqual([
      { path: ['a', 1], message: 'contains a NUL character (\\u0000), which cannot be stored' },
      { path: ['k\uD800'], message: 'key contains an unpaired UTF-16 surrogate, which is not valid Unicode' },
      { path: ['deep', 's'], message: 'contains an unpaired UTF-16 surrogate, which is not valid Unicode' },
    ]);
    expect(storableIssues({ emoji: '\uD83D\uDE00', n: 1, b: null })).toEqual([]);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(storableIssues(deep)).toEqual([{ path: Array(64).fill(0), message: 'nested deeper than 64 levels' }]);
    expect(storableIssues(Array.from({ length: 1000 }, () => '\u0000'))).toHaveLength(20);
    const err = invalid(() => assertStorable({ a: { b: '\u0000' } }, 'object'));
    expect(err.issues).toEqual([{ path: 'object.a.b', message: 'contains a NUL character (\\u0000), which cannot be stored' }]);
    expect(() => assertStorable({ ok: 'yes' }, 'object')).not.toThrow();
  });

  it('refuses prototype keys anywhere in a document, with their paths', () => {
    const doc = JSON.parse('{"a": {"__proto__": {"x": 1}}, "list": [{"constructor": 1}], "prototype": 2, "fine": {"k": "v"}}') as unknown;
    expect(unsafeKeyIssues(doc).map((i) => i.path)).toEqual(['a.__proto__', 'list.0.constructor', 'prototype']);
    expect(unsafeKeyIssues({ s: 'a\u0000' })).toEqual([{ path: 's', message: 'contains a NUL character (\\u0000), which cannot be stored' }]);
    let deep: unknown = {};
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    expect(unsafeKeyIssues(deep)[0]!.message).toBe('nested deeper than 64 levels');
  });

  it('finds keys named twice in JSON text without recursion', () => {
    expect(duplicateJsonKeys('{"a": 1, "b": {"c": 1, "c": 2}, "a": [ {"x": "\\"", "x": 0} ]}')).toEqual(['b.c', 'a', 'a.0.x']);
    expect(duplicateJsonKeys('{"a": "a", "b": ["a", "a"]}')).toEqual([]);
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expect(duplicateJsonKeys(deep)).toEqual([]);
    const many = `{${Array.from({ length: 100 }, () => '"k": 1').join(',')}}`;
    expect(duplicateJsonKeys(many)).toHaveLength(20);
  });
});

describe('zod fields', () => {
  const Body = z.strictObject({ name: storableText(z.string().max(10)), data: storableJson.optional(), from: isoDate.optional(), limit: pageLimitParam.optional() });

  it('accepts good input and transforms dates and limits', () => {
    const ok = Body.parse({ name: 'ada', data: { x: [1] }, from: '2024-05-01T12:00:00Z', limit: '50' });
    expect(ok.from).toEqual(new Date('2024-05-01T12:00:00Z'));
    expect(ok.limit).toBe(50);
    expect(Body.parse({ name: 'b', from: '2024-05-01' }).from).toEqual(new Date('2024-05-01T00:00:00Z'));
  });

  it('names each bad field', () => {
    const bad = Body.safeParse({ name: 'a\u0000', data: { k: ['\uDFFF'] }, from: 'May 1st', limit: '0' });
    expect(bad.success).toBe(false);
    const issues = zodIssues(bad.error!);
    expect(issues.map((i) => i.path)).toEqual(['name', 'data.k.0', 'from', 'limit']);
    expect(issues[3]!.message).toBe('a whole number from 1 to 1000');
    for (const from of ['1', '+020000-01-01', '2024-13-01', 'now']) expect(Body.safeParse({ name: 'a', from }).success, from).toBe(false);
    for (const limit of ['1001', '10000', '-1', '1.5', 'ten', '']) expect(Body.safeParse({ name: 'a', limit }).success, limit).toBe(false);
    expect(Body.safeParse({ name: 'a'.repeat(11) }).success).toBe(false); // the wrapped schema's own rules still apply
  });
});

describe('fields of a posted document', () => {
  it('are named under the field holding it, the document itself by that field (sync and async checks)', async () => {
    const doc = () => {
      throw new Invalid('bad', [{ path: 'steps.0.id', message: 'required' }, { path: '(root)', message: 'line 2, column 1: bad indentation' }]);
    };
    const err = invalid(() => namedUnder('body', doc));
    expect(err.issues).toEqual([{ path: 'body.steps.0.id', message: 'required' }, { path: 'body', message: 'line 2, column 1: bad indentation' }]);
    expect(err.message).toBe('bad');
    const later = await namedUnder('cascade', async () => doc()).catch((e: unknown) => e);
    expect((later as Invalid).issues.map((i) => i.path)).toEqual(['cascade.steps.0.id', 'cascade']);
    // Other errors and results pass through untouched.
    expect(namedUnder('body', () => 7)).toBe(7);
    expect(() => namedUnder('body', () => JSON.parse('{'))).toThrow(SyntaxError);
  });
});

describe('keyset pagination', () => {
  it('round-trips a cursor and refuses forged or foreign ones naming the field', () => {
    const c = { at: new Date('2024-05-01T12:00:00.123Z'), id: 'run-1', order: 'desc' as const };
    expect(decodeCursor(encodeCursor(c), 'desc')).toEqual(c);
    const forged = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    expect(invalid(() => decodeCursor(encodeCursor(c), 'asc')).message).toBe("cursor was returned for order 'desc', not 'asc'");
    for (const s of ['%%%', forged({ t: -1, id: 'a', o: 'desc' }), forged({ t: 1, id: 'a\u0000', o: 'desc' }), forged({ t: 8_640_000_000_000_001, id: 'a', o: 'desc' }), forged({ t: 1, id: 'a', o: 'desc', __proto__: 1 }).slice(0, 5)]) {
      expect(invalid(() => decodeCursor(s, 'desc', 'query.cursor')).issues).toEqual([{ path: 'query.cursor', message: 'malformed cursor' }]);
    }
  });

  it('has one page size rule', () => {
    expect(pageLimit(undefined)).toBe(100);
    expect(pageLimit(1)).toBe(1);
    expect(pageLimit(1000)).toBe(1000);
    for (const n of [0, 1001, 2.5, Number.NaN]) expect(invalid(() => pageLimit(n, 'query.limit')).issues[0]!.path).toBe('query.limit');
  });

  it('cuts the extra row off and points the cursor at the last row kept', () => {
    const rows = [1, 2, 3].map((n) => ({ createdAt: new Date(n * 1000), runId: `r${n}` }));
    const page = cutPage(rows, 2, 'asc', (r) => ({ at: r.createdAt, id: r.runId }));
    expect(page.items).toEqual(rows.slice(0, 2));
    expect(decodeCursor(page.nextCursor!, 'asc')).toEqual({ at: new Date(2000), id: 'r2', order: 'asc' });
    expect(cutPage(rows, 3, 'asc', (r) => ({ at: r.createdAt, id: r.runId })).nextCursor).toBeNull();
  });
});

describe('shards', () => {
  it('places every key in 0..n-1, stably', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[shardOf(`run-${i}`, 4)]!++;
    expect(counts.every((c) => c > 800)).toBe(true);
    expect(shardOf('abc', 7)).toBe(shardOf('abc', 7));
    expect(shardOf('\uFFFF'.repeat(100), 3)).toBeGreaterThanOrEqual(0);
  });
});
