/**
 * The kernel's expression package: `{{ a.b }}` JSON templates and a safe condition language over plain data.
 * Nothing here executes code: paths reach own properties only, `__proto__`/`constructor`/`prototype` are
 * refused, and input length and nesting are bounded. See docs/kernel.md#expressions.
 */
export { ExpressionError } from './expression-error.ts';
export { parseRef, resolveRef, FORBIDDEN_SEGMENTS, MAX_PATH_LENGTH, type PathRef, type RefScope, type ExpressionOptions } from './path-ref.ts';
export { parseTemplateString, collectTemplateRefs, interpolate, interpolateString, interpolateText, MAX_TEMPLATE_DEPTH, type TemplatePart, type LocatedRef } from './template.ts';
export { parseCondition, MAX_CONDITION_LENGTH, MAX_CONDITION_DEPTH, type Condition, type ConditionNode, type CompareOp } from './condition-parser.ts';
export { evaluateCondition, truthy, jsonEqual } from './condition-eval.ts';
export { expressionLanguage, type ExpressionLanguage } from './language.ts';
