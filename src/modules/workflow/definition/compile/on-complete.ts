/** Compiles and checks the optional `onComplete` hook shared by both definition forms. */
import type { FieldIssue } from '../../../../kernel/index.ts';
import type { OnComplete } from '../graph.ts';
import type { RefContext } from '../ref-rules.ts';
import type { StateMachineDefinition } from '../state-machine-schema.ts';
import { headerIssues, templateIssues, urlIssues } from '../template-checks.ts';

/** Normalizes `onComplete`, pushing template issues found in it. */
export function compileOnComplete(spec: StateMachineDefinition['onComplete'], ctx: RefContext, issues: FieldIssue[]): OnComplete | undefined {
  if (!spec) return undefined;
  if (spec.action) {
    issues.push(...templateIssues(spec.action.input, 'onComplete.action.input', ctx));
    return { kind: 'action', action: { name: spec.action.name, input: spec.action.input } };
  }
  if (spec.http) {
    issues.push(...urlIssues(spec.http.url, 'onComplete.http.url', ctx), ...headerIssues(spec.http.headers, 'onComplete.http.headers', ctx));
    return { kind: 'http', http: { url: spec.http.url, method: 'POST', headers: spec.http.headers ?? {}, timeoutMs: spec.http.timeoutMs } };
  }
  return undefined;
}
