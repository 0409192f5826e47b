/** Reconnaissance helpers: JSON paths, aggregates, the coefficient of variation, guardrail violations, quality goals. */
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../../../src/modules/breeder/model/definition.ts';
import { asNumber, readJsonPath } from '../../../../src/modules/breeder/runtime/json-path.ts';
import { qualityAchieved } from '../../../../src/modules/breeder/runtime/loop.ts';
import { aggregate, coefficientOfVariation } from '../../../../src/modules/breeder/runtime/reconnoiter.ts';
import { violation } from '../../../../src/modules/breeder/runtime/trial.ts';

describe('reconnaissance', () => {
  it('reads $.a.b[0] style paths, own properties only', () => {
    const doc = { a: { b: [7, 8], 'x-y': 2 }, list: [{ v: '3.5' }] };
    expect(readJsonPath(doc, '$.a.b[1]')).toBe(8);
    expect(readJsonPath(doc, '$.a.x-y')).toBe(2);
    expect(readJsonPath(doc, '$.list[0].v')).toBe('3.5');
    expect(readJsonPath(doc, '$')).toBe(doc);
    expect(readJsonPath(doc, '$.a.c')).toBeUndefined();
    expect(readJsonPath(doc, '$.a[0]')).toBeUndefined();
    expect(readJsonPath(doc, '$.a.b.length')).toBeUndefined();
    expect(readJsonPath(doc, '$.a.toString')).toBeUndefined();
    expect(asNumber('3.5')).toBe(3.5);
    expect(asNumber('NaN')).toBeUndefined();
    expect(asNumber('')).toBeUndefined();
    expect(asNumber(null)).toBeUndefined();
  });

  it('aggregates and measures variation', () => {
    const xs = [4, 1, 3, 2];
    expect(aggregate(xs, 'mean')).toBe(2.5);
    expect(aggregate(xs, 'median')).toBe(2.5);
    expect(aggregate([5, 1, 3], 'median')).toBe(3);
    expect(aggregate(xs, 'min')).toBe(1);
    expect(aggregate(xs, 'max')).toBe(4);
    expect(aggregate(xs, 'last')).toBe(2);
    expect(coefficientOfVariation([2, 2, 2])).toBe(0);
    expect(coefficientOfVariation([1, 3])).toBeCloseTo(0.5);
    expect(coefficientOfVariation([-1, 1])).toBe(Infinity);
  });

  it('measures guardrail violations by distance', () => {
    expect(violation({ max: 90 }, 95)).toBe(5);
    expect(violation({ min: 0, max: 5 }, -2)).toBe(2);
    expect(violation({ min: 0, max: 5 }, 5)).toBe(0);
  });

  it('quality is achieved when every objective with a threshold meets it in its direction', () => {
    const src = { http: { url: 'http://127.0.0.1:1/' } };
    const def = parseDefinition({
      name: 'q',
      space: { x: { type: 'float', low: 0, high: 1 } },
      objectives: [
        { name: 'lat', direction: 'minimize', quality_threshold: 10, source: src },
        { name: 'rps', direction: 'maximize', quality_threshold: 100, source: src },
        { name: 'other', direction: 'maximize', source: src },
      ],
      effectuation: { http: { url: 'http://127.0.0.1:1/apply' } },
    });
    expect(qualityAchieved(def, [9, 100, 0])).toBe(true);
    expect(qualityAchieved(def, [11, 200, 0])).toBe(false);
    expect(qualityAchieved(def, [9, 99, 0])).toBe(false);
    expect(qualityAchieved(def, null)).toBe(false);
  });
});
