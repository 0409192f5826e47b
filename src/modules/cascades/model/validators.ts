/** Validators that wards and loop_until name: registered functions returning {valid, reason}, or inline JSON schemas. */
import * as z from 'zod';
import type { ValidatorRef } from './definition.ts';

/** A validator's verdict. */
export interface Verdict {
  valid: boolean;
  reason?: string;
}

/** A registered validator: checks a phase's output (text or structured value). */
export type ValidatorFn = (output: unknown) => Verdict;

const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/;
// Seven or more digits, optionally separated: a phone or account number, not a year.
const LONG_NUMBER = /\d(?:[\s().-]?\d){6,}/;

const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v ?? ''));

/** The built-in validators, by name. */
export const VALIDATORS: Readonly<Record<string, ValidatorFn>> = {
  non_empty: (v) => (text(v).trim() && v !== null ? { valid: true } : { valid: false, reason: 'the output is empty' }),
  json_ok: (v) => {
    if (typeof v !== 'string') return { valid: v !== undefined };
    try {
      JSON.parse(v);
      return { valid: true };
    } catch {
      return { valid: false, reason: 'the output is not JSON' };
    }
  },
  no_pii: (v) => {
    const t = text(v);
    if (EMAIL.test(t)) return { valid: false, reason: 'the output contains an e-mail address' };
    if (LONG_NUMBER.test(t)) return { valid: false, reason: 'the output contains a phone or account number' };
    return { valid: true };
  },
  has_title: (v) => {
    if (v && typeof v === 'object' && typeof (v as { title?: unknown }).title === 'string' && (v as { title: string }).title.trim()) return { valid: true };
    if (typeof v === 'string' && /^#\s+\S/m.test(v)) return { valid: true };
    return { valid: false, reason: 'the output has no title' };
  },
};

/** Names of the built-in validators. */
export const VALIDATOR_NAMES = Object.keys(VALIDATORS);

/** Runs a validator reference on an output. */
export function runValidator(ref: ValidatorRef, output: unknown): Verdict {
  // The phase runs cascade validators as child sessions and passes their verdicts in; reaching here is a bug.
  if ('cascade' in (typeof ref === 'object' ? ref : {})) return { valid: false, reason: 'a cascade validator has no verdict here' };
  if (typeof ref === 'string') {
    const fn = VALIDATORS[ref];
    if (!fn) return { valid: false, reason: `unknown validator '${ref}'` };
    return fn(output);
  }
  if (!('json_schema' in ref)) return { valid: false, reason: 'unknown validator' };
  const checker = z.fromJSONSchema(ref.json_schema as Parameters<typeof z.fromJSONSchema>[0]);
  const r = checker.safeParse(output);
  if (r.success) return { valid: true };
  return { valid: false, reason: r.error.issues.map((i) => `${i.path.join('.') || '(output)'}: ${i.message}`).join('; ') };
}

/** A printable name of a validator reference, for logs. */
export function validatorName(ref: ValidatorRef): string {
  if (typeof ref === 'string') return ref;
  return 'cascade' in ref ? `cascade:${ref.cascade}` : 'json_schema';
}
