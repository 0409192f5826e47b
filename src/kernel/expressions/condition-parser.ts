/**
 * The safe condition language (workflow's `when`), parsed without eval: literals (numbers, 'strings' or "strings", true, false,
 * null), paths (`input.x`, `steps.a.output.y`, `steps.a.status`), comparisons == != < <= > >= (not chainable),
 * `!`, `&&`, `||` and parentheses. Precedence, tightest first: `!`, comparisons, `&&`, `||`.
 * Input is bounded (length and nesting), and the lexer and parser are single-pass, so hostile input fails fast.
 */
import { ExpressionError } from './expression-error.ts';
import { parseRef, type ExpressionOptions, type PathRef } from './path-ref.ts';

/** Comparison operators. */
export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

/** A node of a parsed condition; plain JSON, so a compiled graph can be stored and reloaded. */
export type ConditionNode =
  | { kind: 'literal'; value: string | number | boolean | null }
  | { kind: 'path'; ref: PathRef }
  | { kind: 'not'; operand: ConditionNode }
  | { kind: 'and' | 'or'; left: ConditionNode; right: ConditionNode }
  | { kind: 'compare'; op: CompareOp; left: ConditionNode; right: ConditionNode };

/** A parsed condition: its source, its tree and every path it reads (for validation). */
export interface Condition {
  source: string;
  ast: ConditionNode;
  refs: PathRef[];
}

/** Longest condition accepted. */
export const MAX_CONDITION_LENGTH = 1000;
/** Deepest nesting of parentheses and `!` accepted. */
export const MAX_CONDITION_DEPTH = 32;

type Token =
  | { t: 'op'; v: CompareOp | '&&' | '||' | '!' | '(' | ')'; col: number }
  | { t: 'lit'; v: string | number | boolean | null; col: number }
  | { t: 'path'; v: PathRef; col: number }
  | { t: 'end'; col: number };

const COMPARE_OPS: ReadonlySet<string> = new Set(['==', '!=', '<', '<=', '>', '>=']);
const NUMBER_RE = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WORD_RE = /[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*/y;
const ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r' };

/** Splits a condition into tokens; positions are 1-based columns. */
function tokenize(src: string, options: ExpressionOptions): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    const col = i + 1;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '&&' || two === '||' || COMPARE_OPS.has(two)) {
      tokens.push({ t: 'op', v: two as CompareOp, col });
      i += 2;
    } else if (c === '<' || c === '>' || c === '!' || c === '(' || c === ')') {
      tokens.push({ t: 'op', v: c, col });
      i++;
    } else if (c === '=') {
      throw new ExpressionError("single '=': use '==' to compare", col);
    } else if (c === '&' || c === '|') {
      throw new ExpressionError(`single '${c}': use '${c}${c}'`, col);
    } else if (c === "'" || c === '"') {
      let out = '';
      let j = i + 1;
      for (;;) {
        if (j >= src.length) throw new ExpressionError('string is not closed', col);
        const d = src[j]!;
        if (d === c) break;
        if (d === '\\') {
          const e = src[j + 1];
          const mapped = e === undefined ? undefined : ESCAPES[e];
          if (mapped === undefined) throw new ExpressionError(`unknown escape '\\${e ?? ''}' in string`, j + 1);
          out += mapped;
          j += 2;
        } else {
          out += d;
          j++;
        }
      }
      tokens.push({ t: 'lit', v: out, col });
      i = j + 1;
    } else if ((c >= '0' && c <= '9') || (c === '-' && /[0-9]/.test(src[i + 1] ?? ''))) {
      NUMBER_RE.lastIndex = i;
      const m = NUMBER_RE.exec(src)!;
      const n = Number(m[0]);
      if (!Number.isFinite(n)) throw new ExpressionError(`number '${m[0]}' is out of range`, col);
      tokens.push({ t: 'lit', v: n, col });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      WORD_RE.lastIndex = i;
      const word = WORD_RE.exec(src)![0];
      if (word === 'true' || word === 'false') tokens.push({ t: 'lit', v: word === 'true', col });
      else if (word === 'null') tokens.push({ t: 'lit', v: null, col });
      else tokens.push({ t: 'path', v: parseRef(word, col, options), col });
      i += word.length;
    } else {
      throw new ExpressionError(`unexpected character '${c}'`, col);
    }
  }
  tokens.push({ t: 'end', col: src.length + 1 });
  return tokens;
}

/** Describes a token for error messages. */
function show(tok: Token): string {
  if (tok.t === 'end') return 'end of condition';
  if (tok.t === 'path') return `'${tok.v.text}'`;
  return `'${tok.t === 'lit' ? JSON.stringify(tok.v) : tok.v}'`;
}

/** Parses a condition; throws ExpressionError (an Invalid) with the column of the first problem. */
export function parseCondition(source: string, options: ExpressionOptions = {}): Condition {
  if (source.length > MAX_CONDITION_LENGTH) throw new ExpressionError(`condition is longer than ${MAX_CONDITION_LENGTH} characters`, 1);
  const tokens = tokenize(source, options);
  const refs: PathRef[] = [];
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const isOp = (v: string): boolean => {
    const tok = peek();
    return tok.t === 'op' && tok.v === v;
  };

  const primary = (depth: number): ConditionNode => {
    const tok = peek();
    if (tok.t === 'lit') {
      pos++;
      return { kind: 'literal', value: tok.v };
    }
    if (tok.t === 'path') {
      pos++;
      refs.push(tok.v);
      return { kind: 'path', ref: tok.v };
    }
    if (tok.t === 'op' && tok.v === '(') {
      if (depth >= MAX_CONDITION_DEPTH) throw new ExpressionError(`nested deeper than ${MAX_CONDITION_DEPTH} levels`, tok.col);
      pos++;
      const inner = or(depth + 1);
      if (!isOp(')')) throw new ExpressionError(`expected ')' to close the '(' at column ${tok.col}, found ${show(peek())}`, peek().col);
      pos++;
      return inner;
    }
    throw new ExpressionError(`expected a value, a path or '(', found ${show(tok)}`, tok.col);
  };
  const unary = (depth: number): ConditionNode => {
    const tok = peek();
    if (tok.t === 'op' && tok.v === '!') {
      if (depth >= MAX_CONDITION_DEPTH) throw new ExpressionError(`nested deeper than ${MAX_CONDITION_DEPTH} levels`, tok.col);
      pos++;
      return { kind: 'not', operand: unary(depth + 1) };
    }
    return primary(depth);
  };
  const compare = (depth: number): ConditionNode => {
    const left = unary(depth);
    const tok = peek();
    if (tok.t !== 'op' || !COMPARE_OPS.has(tok.v)) return left;
    pos++;
    const right = unary(depth);
    const next = peek();
    if (next.t === 'op' && COMPARE_OPS.has(next.v)) {
      throw new ExpressionError(`comparisons cannot be chained; combine them with && (e.g. a < b && b < c)`, next.col);
    }
    return { kind: 'compare', op: tok.v as CompareOp, left, right };
  };
  // && and || are left-associative and built in a loop, so long chains do not deepen the parser's stack.
  const and = (depth: number): ConditionNode => {
    let left = compare(depth);
    while (isOp('&&')) {
      pos++;
      left = { kind: 'and', left, right: compare(depth) };
    }
    return left;
  };
  const or = (depth: number): ConditionNode => {
    let left = and(depth);
    while (isOp('||')) {
      pos++;
      left = { kind: 'or', left, right: and(depth) };
    }
    return left;
  };

  if (peek().t === 'end') throw new ExpressionError('condition is empty', 1);
  const ast = or(0);
  const rest = peek();
  if (rest.t !== 'end') throw new ExpressionError(`unexpected ${show(rest)}; expected an operator or the end`, rest.col);
  return { source, ast, refs };
}
