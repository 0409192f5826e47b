/** The kernel's expression package: `{{ }}` templates and safe conditions, including hostile input. */
import { describe, expect, it } from 'vitest';
import {
  ExpressionError,
  Invalid,
  evaluateCondition,
  expressionLanguage,
  interpolate as interpolateAny,
  jsonEqual,
  parseCondition as parseConditionAny,
  parseRef as parseRefAny,
  resolveRef,
  truthy,
} from '../../src/kernel/index.ts';

// The cases below were written for workflow's roots; they run on a language with the same roots bound.
const lang = expressionLanguage({ roots: ['input', 'steps', 'object', 'run', 'event', 'schedule'] });
const { interpolate, interpolateText, parseCondition, parseTemplateString, parseRef } = lang;

/** Evaluates a condition source against a scope. */
const when = (src: string, scope: Record<string, unknown> = {}): boolean => evaluateCondition(parseCondition(src), scope);

/** The ExpressionError a parse throws. */
function syntaxError(fn: () => unknown): ExpressionError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ExpressionError);
    expect(err).toBeInstanceOf(Invalid);
    return err as ExpressionError;
  }
  throw new Error('expected an ExpressionError');
}

describe('templates', () => {
  const scope = {
    input: { name: 'Ada', n: 3, tags: ['a', 'b'], nested: { ok: true }, nothing: null },
    steps: { fetch: { status: 'completed', output: { body: { items: [{ id: 7 }] } } } },
    object: { id: 'o-1' },
    run: { id: 'r-1', foreignId: 'f', workflow: 'w', status: 's' },
  };

  it('keeps the type of a string that is exactly one interpolation', () => {
    expect(interpolate('{{ input.n }}', scope)).toBe(3);
    expect(interpolate('{{input.tags}}', scope)).toEqual(['a', 'b']);
    expect(interpolate('{{ input.nested }}', scope)).toEqual({ ok: true });
    expect(interpolate('{{ steps.fetch.output.body.items.0.id }}', scope)).toBe(7);
    expect(interpolate('{{ input.nothing }}', scope)).toBeNull();
    expect(interpolate('{{ input.missing.deeper }}', scope)).toBeNull();
    expect(interpolate('{{ object.id }}', scope)).toBe('o-1');
  });

  it('stringifies embedded interpolations', () => {
    expect(interpolate('Hi {{ input.name }}, n={{ input.n }}', scope)).toBe('Hi Ada, n=3');
    expect(interpolate('{{ input.tags }}!', scope)).toBe('["a","b"]!');
    expect(interpolate('[{{ input.missing }}|{{ input.nothing }}]', scope)).toBe('[|]');
    expect(interpolate(' {{ input.n }}', scope)).toBe(' 3');
    expect(interpolate('{{ input.name }}{{ input.n }}', scope)).toBe('Ada3');
    expect(interpolateText('{{ input.n }}', scope)).toBe('3');
    expect(interpolateText('http://h/{{ run.id }}', scope)).toBe('http://h/r-1');
  });

  it('walks arrays and objects and leaves keys and other values alone', () => {
    const template = { '{{ input.name }}': ['{{ input.n }}', 1, true, null, { deep: 'x{{ object.id }}' }] };
    expect(interpolate(template, scope)).toEqual({ '{{ input.name }}': [3, 1, true, null, { deep: 'xo-1' }] });
    expect(template['{{ input.name }}'][0]).toBe('{{ input.n }}');
    expect(interpolate('no braces } here {', scope)).toBe('no braces } here {');
  });

  it('reports malformed interpolations with their column', () => {
    expect(syntaxError(() => parseTemplateString('ab {{ input.x')).message).toBe("'{{' is not closed by '}}' (at column 4)");
    expect(syntaxError(() => parseTemplateString('{{ }}')).message).toContain("empty '{{ }}'");
    expect(syntaxError(() => parseTemplateString('{{ inputs.x }}')).message).toBe("unknown name 'inputs': a path starts with input, steps, object, run, event, schedule (at column 4)");
    expect(syntaxError(() => parseTemplateString('{{ input.a b }}')).message).toContain("invalid property name 'a b'");
    expect(syntaxError(() => parseTemplateString('{{ input..a }}')).message).toContain('empty property name');
  });

  it('never reaches JavaScript internals', () => {
    for (const p of ['input.__proto__', 'input.constructor', 'object.constructor.prototype', 'steps.x.output.__proto__.polluted']) {
      expect(syntaxError(() => parseTemplateString(`{{ ${p} }}`)).message).toContain('is not allowed in a path');
    }
    expect(syntaxError(() => parseTemplateString('{{ constructor }}')).message).toContain("unknown name 'constructor'");
    // Inherited properties are not data: only own properties resolve.
    expect(resolveRef({ input: {} }, parseRef('input.toString'))).toBeUndefined();
    expect(resolveRef({ input: [] }, parseRef('input.length'))).toBeUndefined();
    expect(resolveRef({ input: 'abc' }, parseRef('input.length'))).toBeUndefined();
    expect(resolveRef(Object.create({ input: 1 }) as Record<string, unknown>, parseRef('input'))).toBeUndefined();
    // A '__proto__' key in data stays data and pollutes nothing.
    const out = interpolate(JSON.parse('{"__proto__": {"polluted": "{{ input.name }}"}}'), scope) as Record<string, unknown>;
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('handles very long input in linear time', () => {
    const many = '{{ input.n }}'.repeat(50_000);
    expect((interpolate(many, scope) as string).length).toBe(50_000);
    expect(syntaxError(() => parseTemplateString('{{'.repeat(100_000))).message).toContain('not closed');
    expect(syntaxError(() => parseTemplateString(`{{ input.${'a'.repeat(10_000)} }}`)).message).toContain('longer than 256');
    let deep: unknown = 'x';
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(() => interpolate(deep, scope)).toThrow(/nested deeper/);
  });
});

describe('conditions', () => {
  const scope = {
    input: { env: 'prod', n: 5, zero: 0, empty: '', list: [1, 2], obj: { a: 1 }, t: true, nul: null },
    steps: { a: { status: 'completed', output: { ok: true, score: 0.75 } }, b: { status: 'skipped' } },
  };

  it('evaluates literals, paths and comparisons without coercion', () => {
    expect(when("input.env == 'prod'", scope)).toBe(true);
    expect(when('input.env == "prod"', scope)).toBe(true);
    expect(when("input.env != 'prod'", scope)).toBe(false);
    expect(when('input.n == 5', scope)).toBe(true);
    expect(when("input.n == '5'", scope)).toBe(false);
    expect(when('input.n > 4 && input.n <= 5', scope)).toBe(true);
    expect(when('input.n >= 6 || input.n < -1', scope)).toBe(false);
    expect(when('steps.a.output.score > 0.5', scope)).toBe(true);
    expect(when('1e3 == 1000', scope)).toBe(true);
    expect(when("'abc' < 'abd'", scope)).toBe(true);
    expect(when("input.n < 'z'", scope)).toBe(false);
    expect(when('input.missing == null', scope)).toBe(true);
    expect(when('input.nul == null && input.zero != null', scope)).toBe(true);
    expect(when('input.missing < 3', scope)).toBe(false);
    expect(when("steps.b.status == 'skipped'", scope)).toBe(true);
    expect(when('steps.a.output.ok == true', scope)).toBe(true);
  });

  it('applies truthiness, !, precedence and parentheses', () => {
    expect(when('input.t', scope)).toBe(true);
    expect(when('input.zero', scope)).toBe(false);
    expect(when('input.empty', scope)).toBe(false);
    expect(when('input.missing', scope)).toBe(false);
    expect(when('input.list', scope)).toBe(true);
    expect(when('!input.missing', scope)).toBe(true);
    expect(when('!!input.t', scope)).toBe(true);
    expect(when('!input.n == 5', scope)).toBe(false); // (!5) == 5
    expect(when('!(input.n == 4)', scope)).toBe(true);
    expect(when('true || false && false', scope)).toBe(true); // && binds tighter
    expect(when('(true || false) && false', scope)).toBe(false);
    expect(when('null', scope)).toBe(false);
    expect(when("'it\\'s' == \"it's\"", scope)).toBe(true);
  });

  it('short-circuits and never throws on data', () => {
    expect(when('input.missing.deep.path == 1 || steps.nope.output.x', scope)).toBe(false);
    expect(when('false && input.obj.a.b.c > 1', scope)).toBe(false);
    expect(when('input.obj == input.obj', scope)).toBe(true);
  });

  it('reports syntax errors with their column', () => {
    const cases: [string, string][] = [
      ['input.a = 1', "single '=': use '==' to compare (at column 9)"],
      ['input.a & input.b', "single '&': use '&&' (at column 9)"],
      ["input.a == 'x", 'string is not closed (at column 12)'],
      ['(input.a == 1', "expected ')' to close the '(' at column 1, found end of condition (at column 14)"],
      ['input.a ==', 'expected a value, a path or \'(\', found end of condition (at column 11)'],
      ['input.a 1', "unexpected '1'; expected an operator or the end (at column 9)"],
      ['1 < 2 < 3', 'comparisons cannot be chained; combine them with && (e.g. a < b && b < c) (at column 7)'],
      ['input.a == $x', "unexpected character '$' (at column 12)"],
      ['', 'condition is empty (at column 1)'],
      ['foo == 1', "unknown name 'foo': a path starts with input, steps, object, run, event, schedule (at column 1)"],
      ["'a\\q'", "unknown escape '\\q' in string (at column 3)"],
      ['1e999 > 1', "number '1e999' is out of range (at column 1)"],
      ['input.x ) ', "unexpected ')'; expected an operator or the end (at column 9)"],
    ];
    for (const [src, message] of cases) expect(syntaxError(() => parseCondition(src)).message).toBe(message);
  });

  it('refuses eval-style and prototype tricks', () => {
    expect(syntaxError(() => parseCondition('input.constructor')).message).toContain("'constructor' is not allowed");
    expect(syntaxError(() => parseCondition('input.__proto__ == null')).message).toContain("'__proto__' is not allowed");
    expect(syntaxError(() => parseCondition("constructor.constructor('return 1')()")).message).toContain("unknown name 'constructor'");
    expect(syntaxError(() => parseCondition('input.a; process.exit(1)')).message).toContain("unexpected character ';'");
    expect(syntaxError(() => parseCondition('`x`')).message).toContain("unexpected character '`'");
    expect(when('input.toString == null', { input: {} })).toBe(true);
  });

  it('bounds length and nesting, failing fast on hostile input', () => {
    expect(syntaxError(() => parseCondition('a'.repeat(1_000_000))).message).toContain('longer than 1000');
    expect(syntaxError(() => parseCondition(`${'('.repeat(33)}true${')'.repeat(33)}`)).message).toContain('nested deeper than 32');
    expect(syntaxError(() => parseCondition(`${'!'.repeat(40)}true`)).message).toContain('nested deeper than 32');
    expect(when(`${'('.repeat(32)}true${')'.repeat(32)}`)).toBe(true);
    // A long flat chain is fine: && and || are built iteratively.
    const chain = Array.from({ length: 120 }, () => 'true').join(' && ');
    expect(when(chain)).toBe(true);
    expect(syntaxError(() => parseCondition(`'${'x'.repeat(990)}`)).message).toContain('not closed');
  });

  it('lists the paths a condition reads', () => {
    expect(parseCondition("steps.a.output.x > 1 && (input.y == 'z' || !run.status)").refs.map((r) => r.text)).toEqual(['steps.a.output.x', 'input.y', 'run.status']);
  });
});

describe('any roots (no list given)', () => {
  it('accepts any identifier as a root and resolves it from the scope', () => {
    const scope = { prompt: { topic: 'tides' }, vars: { n: 2 } };
    expect(interpolateAny('Write about {{ prompt.topic }} in {{ vars.n }} lines', scope)).toBe('Write about tides in 2 lines');
    expect(interpolateAny('{{ vars.n }}', scope)).toBe(2);
    expect(interpolateAny('{{ nowhere.x }}', scope)).toBeNull();
    expect(evaluateCondition(parseConditionAny('vars.n >= 2 && prompt.topic != null'), scope)).toBe(true);
    expect(lang.roots).toEqual(['input', 'steps', 'object', 'run', 'event', 'schedule']);
    expect(expressionLanguage().roots).toBeUndefined();
  });

  it('still refuses prototype names, bad identifiers and reserved words as roots', () => {
    for (const root of ['__proto__', 'constructor', 'prototype']) {
      expect(syntaxError(() => parseRefAny(`${root}.x`)).message).toContain(`unknown name '${root}'`);
      expect(syntaxError(() => parseConditionAny(`${root} == 1`)).message).toContain(`unknown name '${root}'`);
    }
    expect(syntaxError(() => parseRefAny('1abc.x')).message).toContain("unknown name '1abc'");
    expect(syntaxError(() => parseRefAny('')).message).toContain("unknown name ''");
    // A scope whose prototype carries data is not read through, even for a bare root.
    expect(resolveRef(Object.create({ secret: 1 }) as Record<string, unknown>, parseRefAny('secret'))).toBeUndefined();
    expect(resolveRef({ a: 1 }, { root: '__proto__', segments: [], text: '__proto__' })).toBeUndefined();
    // A root given in a list must still be a name the list holds.
    expect(syntaxError(() => expressionLanguage({ roots: ['a'] }).parseRef('b.c')).message).toBe("unknown name 'b': a path starts with a (at column 1)");
  });

  it('renders a prompt-sized template quickly and leaves hostile data as data', () => {
    const big = 'x'.repeat(1_000_000);
    expect(interpolateAny(`{{ p.s }}|{{ p.s }}`, { p: { s: big } })).toHaveLength(2_000_001);
    const data = JSON.parse('{"constructor": {"prototype": {"hit": 1}}, "__proto__": {"hit": 2}}') as unknown;
    expect(interpolateAny('{{ d }}', { d: data })).toBe(data);
    expect(interpolateAny('[{{ d }}]', { d: data })).toBe(`[${JSON.stringify(data)}]`);
    expect(({} as Record<string, unknown>).hit).toBeUndefined();
  });

  it('compares JSON deeply, bounded, without coercion, and defines truthiness once', () => {
    expect(jsonEqual({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(jsonEqual([1], { 0: 1 })).toBe(false);
    expect(jsonEqual(1, '1')).toBe(false);
    let a: unknown = 1;
    let b: unknown = 1;
    for (let i = 0; i < 500; i++) {
      a = [a];
      b = [b];
    }
    expect(jsonEqual(a, b)).toBe(false); // deeper than the bound: refused rather than a deep recursion
    expect([false, null, undefined, 0, '', Number.NaN].map(truthy)).toEqual([false, false, false, false, false, false]);
    expect([true, 1, 'x', [], {}].map(truthy)).toEqual([true, true, true, true, true]);
  });
});
