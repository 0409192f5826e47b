/** The roots workflow definitions' expressions may use (the language is tested in expressions.test.ts, durations in input-rules.test.ts). */
import { describe, expect, it } from 'vitest';
import { ExpressionError } from '../../src/kernel/index.ts';
import { expressions } from '../../src/modules/workflow/definition/index.ts';

describe('workflow expressions', () => {
  it('accept only the roots a definition can use, with a message that lists them', () => {
    const msg = "unknown name 'inputs': a path starts with input, steps, object, run, event, schedule (at column 4)";
    expect(() => expressions.parseTemplateString('{{ inputs.x }}')).toThrow(ExpressionError);
    expect(() => expressions.parseTemplateString('{{ inputs.x }}')).toThrow(msg);
    expect(() => expressions.parseCondition('foo == 1')).toThrow("unknown name 'foo': a path starts with input, steps, object, run, event, schedule (at column 1)");
    expect(expressions.interpolate('{{ input.a }}-{{ steps.s.output }}', { input: { a: 1 }, steps: { s: { output: 'x' } } })).toBe('1-x');
    expect(expressions.test("input.a == 1 && schedule.name == 'n'", { input: { a: 1 }, schedule: { name: 'n' } })).toBe(true);
  });
});
