import { describe, expect, it } from 'vitest';
import { zodIssues } from '../../../src/kernel/index.ts';
import { SpaceSchema, validateParams } from '../../../src/modules/breeder/model/space.ts';

const paths = (input: unknown) => {
  const r = SpaceSchema.safeParse(input);
  return r.success ? [] : zodIssues(r.error, 'space').map((i) => i.path);
};

describe('search space schema', () => {
  it('accepts the three parameter kinds and fills defaults', () => {
    const s = SpaceSchema.parse({
      rmem_max: { type: 'int', low: 4096, high: 6291456, log: true },
      congestion: { type: 'categorical', choices: ['cubic', 'bbr', 'reno'] },
      ratio: { type: 'float', low: 0.1, high: 0.9, step: 0.05 },
    });
    expect(s.ratio).toEqual({ type: 'float', low: 0.1, high: 0.9, step: 0.05, log: false });
  });

  it('names the field of every error', () => {
    expect(paths({ a: { type: 'float', low: 2, high: 1 } })).toEqual(['space.a.high']);
    expect(paths({ a: { type: 'float', low: 0, high: 1, log: true } })).toEqual(['space.a.low']);
    expect(paths({ a: { type: 'float', low: 1, high: 2, log: true, step: 0.5 } })).toEqual(['space.a.step']);
    expect(paths({ a: { type: 'float', low: 0, high: 1, step: 0.3 } })).toEqual(['space.a.high']);
    expect(paths({ a: { type: 'int', low: 0.5, high: 3 } })).toEqual(['space.a.low']);
    expect(paths({ a: { type: 'categorical', choices: ['x', 'y', 'x'] } })).toEqual(['space.a.choices.2']);
    expect(paths({ a: { type: 'categorical', choices: [] } })).toEqual(['space.a.choices']);
    expect(paths({ a: { type: 'float', low: 0, high: 1, typo: 1 } })).toEqual(['space.a.typo']);
    expect(paths({ a: { type: 'matrix' } })).toEqual(['space.a.type']);
    expect(paths({})).toEqual(['space']);
  });

  it('validates a params object against the space, naming each bad parameter', () => {
    const space = SpaceSchema.parse({
      n: { type: 'int', low: 1, high: 10, step: 3 },
      x: { type: 'float', low: 0, high: 1 },
      c: { type: 'categorical', choices: ['a', 1, true] },
    });
    expect(validateParams(space, { n: 7, x: 0.5, c: true })).toEqual([]);
    const issues = validateParams(space, { n: 6, x: 2, c: 'b', extra: 1 });
    expect(issues.map((i) => i.path)).toEqual(['n', 'x', 'c', 'extra']);
    expect(validateParams(space, { x: 0.1, c: 'a' })).toEqual([{ path: 'n', message: 'missing' }]);
    expect(validateParams(space, { n: 2.5, x: Number.NaN, c: 'a' }).map((i) => i.path)).toEqual(['n', 'x']);
  });
});
