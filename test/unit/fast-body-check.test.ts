/**
 * The precompiled body check agrees with zod: on every input of a generated corpus, it accepts exactly what zod accepts
 * and returns the same value (same keys in the same order, defaults filled in); what it does not cover gets no check.
 */
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { fastBodyCheck, REFUSED } from '../../src/kernel/http/fast-body-check.ts';

const schemas = {
  say: z.strictObject({ text: z.string().min(1), times: z.number().int().min(1).max(5).default(1) }),
  loose: z.object({ name: z.string().max(3), flag: z.boolean().optional(), kind: z.enum(['a', 'b']), ratio: z.number().gt(0).lt(1).optional() }),
  nested: z.strictObject({ inner: z.strictObject({ n: z.number() }), tags: z.object({ x: z.string() }).default({ x: 'd' }) }),
};

/** Values of every JSON type, including the edges of the bounds above. */
const atoms: unknown[] = ['', 'a', 'abc', 'abcd', 'hello', 0, 1, 2, 5, 6, 0.5, 1.5, -1, 1e300, Number.MAX_SAFE_INTEGER + 2, true, false, null, [], ['a'], {}, 'b'];

/** Objects built from the keys the schemas know plus one unknown key, each given every atom in turn (bounded). */
function corpus(): unknown[] {
  const keys = ['text', 'times', 'name', 'flag', 'kind', 'ratio', 'extra'];
  const out: unknown[] = [...atoms, { inner: { n: 1 } }, { inner: { n: 1 }, tags: { x: 'y', z: 1 } }, { inner: { n: 'x' } }, { inner: { n: 2, m: 1 } }, { inner: {} }];
  for (const a of atoms) for (const b of atoms) out.push({ text: a, times: b }, { name: a, kind: b }, { name: 'ab', kind: a, flag: b }, { name: 'ab', kind: 'a', ratio: a, extra: b });
  for (const k of keys) for (const a of atoms) out.push({ text: 'hi', name: 'x', kind: 'a', [k]: a });
  return out;
}

describe('fast body check', () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`${name}: accepts exactly what zod accepts, with zod's value`, () => {
      const fast = fastBodyCheck(schema);
      expect(fast).toBeTypeOf('function');
      let accepted = 0;
      for (const input of corpus()) {
        const z1 = schema.safeParse(structuredClone(input));
        const f = fast!(structuredClone(input));
        const label = JSON.stringify(input);
        expect(f === REFUSED, label).toBe(!z1.success);
        if (z1.success) {
          accepted++;
          // Same keys in the same order as zod's output, not only equal values.
          expect(JSON.stringify(f), label).toBe(JSON.stringify(z1.data));
          expect(f).toStrictEqual(z1.data);
        }
      }
      // The corpus reaches both answers for every schema.
      expect(accepted).toBeGreaterThan(0);
    });
  }

  it('a default object is a fresh copy each time, as zod gives', () => {
    const fast = fastBodyCheck(schemas.nested)!;
    const a = fast({ inner: { n: 1 } }) as { tags: { x: string } };
    const b = fast({ inner: { n: 1 } }) as { tags: { x: string } };
    expect(a.tags).toEqual({ x: 'd' });
    a.tags.x = 'changed';
    expect(b.tags).toEqual({ x: 'd' });
  });

  it('schemas with parts it does not cover get no fast check (zod validates them)', () => {
    const uncovered = [
      z.object({ a: z.string() }).refine((v) => v.a !== 'x'),
      z.object({ a: z.string().regex(/a/) }),
      z.object({ a: z.string().trim() }),
      z.object({ a: z.coerce.number() }),
      z.object({ a: z.string().nullable() }),
      z.object({ a: z.string().transform((s) => s.length) }),
      z.looseObject({ a: z.string() }),
      z.object({ a: z.array(z.string()) }),
      z.string(),
    ];
    for (const s of uncovered) expect(fastBodyCheck(s)).toBeUndefined();
  });
});
