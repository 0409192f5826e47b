/** Durations, templates and `when` conditions of workflow definitions, including hostile input. */
import { describe, expect, it } from 'vitest';
import { Invalid } from '../../src/kernel/index.ts';
import {
  ExpressionError,
  evaluateCondition,
  formatDuration,
  interpolate,
  interpolateText,
  nextRetryDelayMs,
  parseCondition,
  parseDuration,
  parseTemplateString,
  resolveRef,
  parseRef,
} from '../../src/modules/workflow/definition/index.ts';

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
    expect(resolveRef(Object.create({ input: 1 }) as object, parseRef('input'))).toBeUndefined();
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
