/** A small subset of JSON Schema for a DAG's input: type, properties, required, items, enum, additionalProperties. */
import * as z from 'zod';
import type { FieldIssue } from '../../../kernel/index.ts';
import { jsonEqual } from '../../../kernel/index.ts';

/** JSON types an input schema can name. */
export type InputType = 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null';

/** The schema-lite a DAG's `input` declares; validates the trigger's object. */
export interface InputSchemaLite {
  type?: InputType;
  description?: string;
  properties?: Record<string, InputSchemaLite>;
  required?: string[];
  items?: InputSchemaLite;
  enum?: unknown[];
  additionalProperties?: boolean;
}

/** Zod schema of the schema-lite itself (strict, recursive). */
export const InputSchemaSpec: z.ZodType<InputSchemaLite> = z.lazy(() =>
  z.strictObject({
    type: z.enum(['object', 'array', 'string', 'number', 'integer', 'boolean', 'null']).optional(),
    description: z.string().max(2000).optional(),
    properties: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only'), InputSchemaSpec).optional(),
    required: z.array(z.string()).optional(),
    items: InputSchemaSpec.optional(),
    enum: z.array(z.json()).min(1).optional(),
    additionalProperties: z.boolean().optional(),
  }),
);

/** The JSON type of a value, as the schema names it ('integer' counts as 'number' too). */
function typeOf(v: unknown): InputType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v as InputType;
}

/** Checks a value against the schema; returns one issue per problem, paths prefixed with `path`. */
export function checkInput(schema: InputSchemaLite, value: unknown, path = 'input', depth = 0): FieldIssue[] {
  if (depth > 32) return [];
  const actual = typeOf(value);
  if (schema.type && schema.type !== actual && !(schema.type === 'number' && actual === 'integer')) {
    return [{ path, message: `expected ${schema.type}, got ${actual}` }];
  }
  if (schema.enum && !schema.enum.some((e) => jsonEqual(e, value))) {
    return [{ path, message: `expected one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}` }];
  }
  const issues: FieldIssue[] = [];
  if (actual === 'object' && value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (!Object.hasOwn(obj, key)) issues.push({ path: `${path}.${key}`, message: 'required' });
    }
    for (const [key, v] of Object.entries(obj)) {
      const sub = schema.properties && Object.hasOwn(schema.properties, key) ? schema.properties[key] : undefined;
      if (sub) issues.push(...checkInput(sub, v, `${path}.${key}`, depth + 1));
      else if (schema.additionalProperties === false) issues.push({ path: `${path}.${key}`, message: 'unknown field' });
    }
  }
  if (actual === 'array' && schema.items) {
    (value as unknown[]).forEach((v, i) => issues.push(...checkInput(schema.items!, v, `${path}.${i}`, depth + 1)));
  }
  return issues;
}

/** Top-level field names an object input schema declares, or undefined when it declares none (anything goes). */
export function declaredInputFields(schema: InputSchemaLite | undefined): ReadonlySet<string> | undefined {
  if (!schema?.properties || (schema.type !== undefined && schema.type !== 'object')) return undefined;
  return new Set(Object.keys(schema.properties));
}
