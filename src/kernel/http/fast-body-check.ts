/**
 * A precompiled check for the common shape of a JSON request body (an object of strings, numbers, booleans, enums and
 * nested such objects, with optional fields and defaults), built once per route from its zod schema. On a valid body
 * it returns exactly what zod's parse returns, several times faster (zod's parse was the largest single cost of a
 * validated POST after the socket work); on anything else it answers `REFUSED` and the caller runs zod, so every
 * error still comes from zod and names its fields. A schema using anything not listed here gets no fast check.
 */
import type { z } from 'zod';

/** What a fast check answers for a value it does not accept (zod then says why). */
export const REFUSED: unique symbol = Symbol('refused');

/** Parses a JSON value as the schema would, or answers REFUSED. */
export type FastCheck = (value: unknown) => unknown;

/** The parts of zod's internal definition read here (zod v4's `_zod.def`). */
interface Def {
  type: string;
  checks?: { _zod: { def: CheckDef } }[];
  shape?: Record<string, { _zod: { def: Def } }>;
  catchall?: { _zod: { def: Def } };
  innerType?: { _zod: { def: Def } };
  entries?: Record<string, unknown>;
  defaultValue?: unknown;
  coerce?: boolean;
}

interface CheckDef {
  check: string;
  minimum?: number;
  maximum?: number;
  value?: number;
  inclusive?: boolean;
  format?: string;
}

/** The keys a supported definition may have: any other (a transform, a coercion, a custom error) means "not supported". */
const PLAIN_KEYS: Record<string, readonly string[]> = {
  string: ['type', 'checks'],
  number: ['type', 'checks'],
  boolean: ['type', 'checks'],
  enum: ['type', 'entries', 'checks'],
  object: ['type', 'shape', 'catchall', 'checks'],
  optional: ['type', 'innerType', 'checks'],
  default: ['type', 'innerType', 'defaultValue', 'checks'],
};

const hasOnly = (def: Def, keys: readonly string[]) => Object.keys(def).every((k) => keys.includes(k));

/** One compiled field: the parsed value, or REFUSED. */
type Field = (value: unknown) => unknown;

function compileString(def: Def): Field | undefined {
  let min = 0;
  let max = Infinity;
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'min_length' && typeof d.minimum === 'number') min = Math.max(min, d.minimum);
    else if (d.check === 'max_length' && typeof d.maximum === 'number') max = Math.min(max, d.maximum);
    else return undefined;
  }
  return (v) => (typeof v === 'string' && v.length >= min && v.length <= max ? v : REFUSED);
}

function compileNumber(def: Def): Field | undefined {
  let int = false;
  const bounds: { value: number; inclusive: boolean; above: boolean }[] = [];
  for (const c of def.checks ?? []) {
    const d = c._zod.def;
    if (d.check === 'number_format' && d.format === 'safeint') int = true;
    else if ((d.check === 'greater_than' || d.check === 'less_than') && typeof d.value === 'number') bounds.push({ value: d.value, inclusive: d.inclusive === true, above: d.check === 'greater_than' });
    else return undefined;
  }
  const inBounds = (v: number) => bounds.every((b) => (b.above ? (b.inclusive ? v >= b.value : v > b.value) : b.inclusive ? v <= b.value : v < b.value));
  return (v) => (typeof v === 'number' && Number.isFinite(v) && (!int || Number.isSafeInteger(v)) && inBounds(v) ? v : REFUSED);
}

function compileEnum(def: Def): Field | undefined {
  const values = Object.values(def.entries ?? {});
  if (values.length === 0 || !values.every((x) => typeof x === 'string')) return undefined;
  const allowed = new Set(values);
  return (v) => (typeof v === 'string' && allowed.has(v) ? v : REFUSED);
}

/** An object's fields in shape order; absent optional fields stay absent, absent defaulted ones take their default. */
function compileObject(def: Def): Field | undefined {
  const catchall = def.catchall?._zod.def.type;
  // Unknown keys are dropped (no catchall) or refused (strict: never); any other catchall is zod's to handle.
  if (catchall !== undefined && catchall !== 'never') return undefined;
  const strict = catchall === 'never';
  const fields: { key: string; parse: Field; optional: boolean; fallback?: { def: Def } }[] = [];
  for (const [key, schema] of Object.entries(def.shape ?? {})) {
    const f = schema._zod.def;
    if (f.type === 'optional' || f.type === 'default') {
      if (!hasOnly(f, PLAIN_KEYS[f.type]!) || (f.checks?.length ?? 0) > 0) return undefined;
      const inner = compile(f.innerType!._zod.def);
      if (!inner) return undefined;
      fields.push({ key, parse: inner, optional: true, fallback: f.type === 'default' ? { def: f } : undefined });
      continue;
    }
    const parse = compile(f);
    if (!parse) return undefined;
    fields.push({ key, parse, optional: false });
  }
  const known = new Set(fields.map((f) => f.key));
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return REFUSED;
    const input = v as Record<string, unknown>;
    if (strict) for (const k in input) if (!known.has(k)) return REFUSED;
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const x = input[f.key];
      if (x === undefined) {
        if (!f.optional) return REFUSED;
        // zod reads the default each time (a fresh copy of an object default); an optional field stays absent.
        if (f.fallback) out[f.key] = f.fallback.def.defaultValue;
        continue;
      }
      const parsed = f.parse(x);
      if (parsed === REFUSED) return REFUSED;
      out[f.key] = parsed;
    }
    return out;
  };
}

function compile(def: Def): Field | undefined {
  const keys = PLAIN_KEYS[def.type];
  if (!keys || !hasOnly(def, keys) || def.coerce) return undefined;
  switch (def.type) {
    case 'string':
      return compileString(def);
    case 'number':
      return compileNumber(def);
    case 'boolean':
      return (def.checks?.length ?? 0) > 0 ? undefined : (v) => (typeof v === 'boolean' ? v : REFUSED);
    case 'enum':
      return (def.checks?.length ?? 0) > 0 ? undefined : compileEnum(def);
    case 'object':
      return (def.checks?.length ?? 0) > 0 ? undefined : compileObject(def);
    default:
      return undefined;
  }
}

/** The fast check of a body schema, or undefined when the schema uses something this does not cover. */
export function fastBodyCheck(schema: z.ZodType): FastCheck | undefined {
  const def = (schema as unknown as { _zod?: { def?: Def } })._zod?.def;
  if (!def || def.type !== 'object') return undefined;
  return compile(def);
}
