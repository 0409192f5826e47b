/** Schemas given as zod or as JSON Schema: the JSON Schema sent on the wire, and the zod schema that checks answers. */
import * as z from 'zod';
import type { JsonSchema } from '../model/messages.ts';

/** True for a zod schema (as opposed to a plain JSON Schema object). */
export function isZodSchema(s: unknown): s is z.ZodType {
  return typeof s === 'object' && s !== null && '_zod' in s && typeof (s as { safeParse?: unknown }).safeParse === 'function';
}

// Conversions are cached by schema object: callers pass the same schema on every call of a loop.
const toJson = new WeakMap<object, JsonSchema>();
const toZod = new WeakMap<object, z.ZodType>();

/** The JSON Schema to send (zod converted once; `$schema` dropped, as some providers refuse unknown keywords). */
export function wireSchema(s: JsonSchema | z.ZodType): JsonSchema {
  if (!isZodSchema(s)) return s;
  let out = toJson.get(s);
  if (!out) {
    const { $schema: _drop, ...rest } = z.toJSONSchema(s) as JsonSchema;
    out = rest;
    toJson.set(s, out);
  }
  return out;
}

/** The zod schema that checks an answer (a JSON Schema converted once with zod's fromJSONSchema). */
export function checkerOf(s: JsonSchema | z.ZodType): z.ZodType {
  if (isZodSchema(s)) return s;
  let out = toZod.get(s);
  if (!out) {
    out = z.fromJSONSchema(s as Parameters<typeof z.fromJSONSchema>[0]);
    toZod.set(s, out);
  }
  return out;
}
