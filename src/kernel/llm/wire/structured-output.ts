/** Checks a structured answer: the content must be JSON and, for json_schema, match the requested schema. */
import type { FieldIssue } from '../../errors.ts';
import { WHOLE_VALUE, zodIssues } from '../../validation.ts';
import type { ResponseFormat } from '../model/request.ts';
import { checkerOf } from './json-schema.ts';

/** Some local models wrap JSON in a Markdown fence although asked not to; accept that, nothing looser. */
function unfence(text: string): string {
  const m = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/.exec(text);
  return m ? m[1]! : text;
}

/** `[issues]` when the content fails, `[undefined, parsed]` when it passes. */
export function checkStructuredOutput(content: string, format: ResponseFormat): [FieldIssue[]] | [undefined, unknown] {
  let value: unknown;
  try {
    value = JSON.parse(unfence(content));
  } catch (err) {
    return [[{ path: WHOLE_VALUE, message: `not JSON: ${(err as Error).message}` }]];
  }
  if (format.type === 'json_object') return [undefined, value];
  const checked = checkerOf(format.schema).safeParse(value);
  return checked.success ? [undefined, checked.data] : [zodIssues(checked.error)];
}
