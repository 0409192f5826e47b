/** One expression language with its roots bound once, so a module does not pass options at every call. */
import { evaluateCondition } from './condition-eval.ts';
import { parseCondition, type Condition } from './condition-parser.ts';
import { parseRef, type ExpressionOptions, type PathRef, type RefScope } from './path-ref.ts';
import { collectTemplateRefs, interpolate, interpolateString, interpolateText, parseTemplateString, type LocatedRef, type TemplatePart } from './template.ts';
import type { FieldIssue } from '../errors.ts';

/** The package's parsers and renderers with `options` applied. */
export interface ExpressionLanguage {
  readonly roots: readonly string[] | undefined;
  parseRef(text: string, column?: number): PathRef;
  parseTemplateString(s: string): TemplatePart[];
  collectTemplateRefs(template: unknown, basePath: string): { refs: LocatedRef[]; issues: FieldIssue[] };
  interpolate(template: unknown, scope: RefScope): unknown;
  interpolateString(s: string, scope: RefScope): unknown;
  interpolateText(s: string, scope: RefScope): string;
  parseCondition(source: string): Condition;
  /** Parses and evaluates in one go (a parsed Condition should be kept when evaluated often). */
  test(source: string, scope: RefScope): boolean;
}

/** Binds options (today: the allowed roots) to every function of the package. */
export function expressionLanguage(options: ExpressionOptions = {}): ExpressionLanguage {
  const roots = options.roots ? [...options.roots] : undefined;
  const opts: ExpressionOptions = { roots };
  return {
    roots,
    parseRef: (text, column = 1) => parseRef(text, column, opts),
    parseTemplateString: (s) => parseTemplateString(s, opts),
    collectTemplateRefs: (template, basePath) => collectTemplateRefs(template, basePath, opts),
    interpolate: (template, scope) => interpolate(template, scope, opts),
    interpolateString: (s, scope) => interpolateString(s, scope, opts),
    interpolateText: (s, scope) => interpolateText(s, scope, opts),
    parseCondition: (source) => parseCondition(source, opts),
    test: (source, scope) => evaluateCondition(parseCondition(source, opts), scope),
  };
}
