/** The field issues of the Invalid a synchronous call throws, for tests of validation messages. */
import { expect } from 'vitest';
import { Invalid, type FieldIssue } from '../../src/kernel/errors.ts';

/** The issues of the Invalid that `fn` throws (fails the test if it throws anything else or nothing). */
export function issuesOf(fn: () => unknown): FieldIssue[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Invalid);
    return (err as Invalid).issues;
  }
  throw new Error('expected Invalid, nothing was thrown');
}
