/** Workflow's expression language: the kernel's templates and conditions, limited to the roots a definition may use. */
import { expressionLanguage } from '../../../kernel/index.ts';

/** The names a path may start with; which ones a definition may use where is decided in ref-rules.ts. */
export const REF_ROOTS = ['input', 'steps', 'object', 'run', 'event', 'schedule'] as const;
/** One of REF_ROOTS. */
export type RefRoot = (typeof REF_ROOTS)[number];

/** Templates and conditions of workflow definitions (a path with another root is a syntax error). */
export const expressions = expressionLanguage({ roots: REF_ROOTS });
