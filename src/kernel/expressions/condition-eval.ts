/**
 * Evaluates a parsed `when` condition against run data. Never throws on data: a missing path is null,
 * an ordering comparison between different types is false, == compares JSON values deeply without coercion.
 * Truthiness: false, null, missing, 0 and '' are false; everything else is true.
 */
import type { Condition, ConditionNode } from './condition-parser.ts';
import { resolveRef, type RefScope } from './path-ref.ts';

/** Deep equality of JSON values, no type coercion (1 != '1'). */
export function jsonEqual(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true;
  if (depth > 100 || a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i], depth + 1));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], depth + 1));
}

/** The truthiness rule of conditions. */
export function truthy(v: unknown): boolean {
  return !(v === undefined || v === null || v === false || v === 0 || v === '' || Number.isNaN(v));
}

/** Value of one node. */
function value(node: ConditionNode, scope: RefScope): unknown {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'path':
      return resolveRef(scope, node.ref) ?? null;
    case 'not':
      return !truthy(value(node.operand, scope));
    case 'and':
      return truthy(value(node.left, scope)) && truthy(value(node.right, scope));
    case 'or':
      return truthy(value(node.left, scope)) || truthy(value(node.right, scope));
    case 'compare': {
      const l = value(node.left, scope);
      const r = value(node.right, scope);
      if (node.op === '==') return jsonEqual(l, r);
      if (node.op === '!=') return !jsonEqual(l, r);
      const comparable = (typeof l === 'number' && typeof r === 'number') || (typeof l === 'string' && typeof r === 'string');
      if (!comparable) return false;
      const a = l as number | string;
      const b = r as number | string;
      if (node.op === '<') return a < b;
      if (node.op === '<=') return a <= b;
      if (node.op === '>') return a > b;
      return a >= b;
    }
  }
}

/** True when the condition holds for this scope. */
export function evaluateCondition(condition: Condition, scope: RefScope): boolean {
  return truthy(value(condition.ast, scope));
}
