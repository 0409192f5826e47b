/** Subject pattern matching and validation, NATS style. */
import { describe, expect, it } from 'vitest';
import { compilePattern, matchSubject, validatePattern, validateType } from '../../src/kernel/bus/subject-pattern.ts';
import { Invalid } from '../../src/kernel/errors.ts';

describe('subject patterns', () => {
  it('matches literal subjects token by token', () => {
    expect(matchSubject('workflow.run.created', 'workflow.run.created')).toBe(true);
    expect(matchSubject('workflow.run.created', 'workflow.run.updated')).toBe(false);
    expect(matchSubject('workflow.run', 'workflow.run.created')).toBe(false);
    expect(matchSubject('workflow.run.created', 'workflow.run')).toBe(false);
  });

  it('* matches exactly one token', () => {
    const m = compilePattern('workflow.*.created');
    expect(m('workflow.run.created')).toBe(true);
    expect(m('workflow.step.created')).toBe(true);
    expect(m('workflow.created')).toBe(false);
    expect(m('workflow.run.x.created')).toBe(false);
    expect(matchSubject('*', 'a')).toBe(true);
    expect(matchSubject('*', 'a.b')).toBe(false);
    expect(matchSubject('a.*', 'a')).toBe(false);
    expect(matchSubject('*.*', 'a.b')).toBe(true);
  });

  it('> matches one or more remaining tokens', () => {
    const m = compilePattern('workflow.>');
    expect(m('workflow.run')).toBe(true);
    expect(m('workflow.run.created')).toBe(true);
    expect(m('workflow')).toBe(false);
    expect(m('agents.run')).toBe(false);
    expect(matchSubject('>', 'a')).toBe(true);
    expect(matchSubject('>', 'a.b.c')).toBe(true);
    expect(matchSubject('*.run.>', 'x.run.y.z')).toBe(true);
    expect(matchSubject('*.run.>', 'x.run')).toBe(false);
  });

  it('does not treat wildcard characters inside tokens as wildcards', () => {
    expect(() => compilePattern('work*.run')).toThrow(Invalid);
    expect(() => compilePattern('a.b>')).toThrow(Invalid);
  });

  it('rejects malformed patterns with Invalid naming the field', () => {
    for (const bad of ['', '.a', 'a.', 'a..b', 'a b', 'a.>.b', '>.a', 'a.\tb']) {
      let err: unknown;
      try {
        validatePattern(bad);
      } catch (e) {
        err = e;
      }
      expect(err, `pattern ${JSON.stringify(bad)}`).toBeInstanceOf(Invalid);
      expect((err as Invalid).issues[0]?.path).toBe('pattern');
    }
  });

  it('accepts well-formed patterns', () => {
    for (const ok of ['a', 'a.b', '*', '>', 'a.*.c', 'a.>', '*.>', 'a-b_c.D9']) expect(() => validatePattern(ok)).not.toThrow();
  });

  it('rejects event types with wildcards, spaces or empty tokens', () => {
    for (const bad of ['', 'a.*', 'a.>', '*', 'a..b', 'a b', 'a.']) expect(() => validateType(bad), bad).toThrow(Invalid);
    expect(() => validateType('workflow.run.created')).not.toThrow();
  });
});
