/** Submit-time checks of templates: syntax, and that every path is usable where it appears. */
import type { FieldIssue } from '../../../kernel/index.ts';
import { refProblem, type RefContext } from './ref-rules.ts';
import { expressions } from './expressions.ts';

/** Issues of a JSON template found at `path` (syntax errors and unusable paths). */
export function templateIssues(template: unknown, path: string, ctx: RefContext): FieldIssue[] {
  const { refs, issues } = expressions.collectTemplateRefs(template, path);
  for (const { ref, path: at } of refs) {
    const problem = refProblem(ref, ctx);
    if (problem) issues.push({ path: at, message: problem });
  }
  return issues;
}

/** Issues of a URL template: its scheme must be a literal http:// or https://, the rest may interpolate. */
export function urlIssues(url: string, path: string, ctx: RefContext): FieldIssue[] {
  const issues = templateIssues(url, path, ctx);
  if (!/^https?:\/\/[^/{]/i.test(url)) issues.push({ path, message: 'url must start with http:// or https:// and a literal host' });
  return issues;
}

/** Issues of header templates. */
export function headerIssues(headers: Record<string, string> | undefined, path: string, ctx: RefContext): FieldIssue[] {
  return Object.entries(headers ?? {}).flatMap(([k, v]) => templateIssues(v, `${path}.${k}`, ctx));
}
