/** The search space of a breeder: its parameters (int, float, categorical), their zod schema and the check of a params object against it. */
import * as z from 'zod';

/** Parameter names are used in templates and as object keys; keep them plain. */
export const PARAM_NAME = /^[a-zA-Z_][a-zA-Z0-9_.-]*$/;

/** Relative tolerance when checking that a range or a value lies on the step grid (floats are not exact). */
const STEP_TOLERANCE = 1e-9;

/** True when (value - low) is a whole number of steps, within floating-point tolerance. */
export function onStep(value: number, low: number, step: number): boolean {
  const k = (value - low) / step;
  return Math.abs(k - Math.round(k)) <= STEP_TOLERANCE * Math.max(1, Math.abs(k));
}

/** Checks low/high/log/step together; each issue names the field it is about. */
function checkRange(p: { low: number; high: number; log: boolean; step?: number | undefined }, ctx: z.core.$RefinementCtx, intType: boolean): void {
  if (p.low > p.high) ctx.addIssue({ code: 'custom', path: ['high'], message: `high (${p.high}) must be ≥ low (${p.low})` });
  if (p.log && p.low <= 0) ctx.addIssue({ code: 'custom', path: ['low'], message: 'low must be > 0 on a log scale' });
  if (p.log && p.step !== undefined && !(intType && p.step === 1)) {
    ctx.addIssue({ code: 'custom', path: ['step'], message: 'a log-scale parameter cannot have a step' + (intType ? ' other than 1' : '') });
  }
  if (p.step !== undefined && p.low <= p.high && !onStep(p.high, p.low, p.step)) {
    ctx.addIssue({ code: 'custom', path: ['high'], message: `high - low must be a multiple of step (${p.step})` });
  }
}

/** An integer parameter: values low, low+step, ..., high (step 1 by default); `log` samples evenly in log space. */
export const IntParamSchema = z
  .strictObject({
    type: z.literal('int'),
    low: z.number().int(),
    high: z.number().int(),
    log: z.boolean().default(false),
    step: z.number().int().positive().optional(),
  })
  .superRefine((p, ctx) => checkRange(p, ctx, true));

/** A real parameter in [low, high]; with `step`, only low + k·step; with `log`, evenly in log space. */
export const FloatParamSchema = z
  .strictObject({
    type: z.literal('float'),
    low: z.number().finite(),
    high: z.number().finite(),
    log: z.boolean().default(false),
    step: z.number().finite().positive().optional(),
  })
  .superRefine((p, ctx) => checkRange(p, ctx, false));

/** A choice among listed values (strings, numbers or booleans); they must be distinct. */
export const CategoricalParamSchema = z
  .strictObject({
    type: z.literal('categorical'),
    choices: z.array(z.union([z.string(), z.number().finite(), z.boolean()])).min(1),
  })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.choices.forEach((c, i) => {
      const key = `${typeof c}:${String(c)}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['choices', i], message: `duplicate choice ${JSON.stringify(c)}` });
      seen.add(key);
    });
  });

/** One parameter of the space. */
export const ParamSpecSchema = z.discriminatedUnion('type', [IntParamSchema, FloatParamSchema, CategoricalParamSchema]);

/** The whole space: parameter name → spec, at least one parameter. */
export const SpaceSchema = z
  .record(z.string().regex(PARAM_NAME, 'parameter names start with a letter or _ and use letters, digits, _ . -'), ParamSpecSchema)
  .refine((s) => Object.keys(s).length > 0, { message: 'the space needs at least one parameter' });

/** An int parameter after parsing (defaults filled in). */
export type IntParam = z.output<typeof IntParamSchema>;
/** A float parameter after parsing. */
export type FloatParam = z.output<typeof FloatParamSchema>;
/** A categorical parameter after parsing. */
export type CategoricalParam = z.output<typeof CategoricalParamSchema>;
/** Any parameter spec after parsing. */
export type ParamSpec = z.output<typeof ParamSpecSchema>;
/** A parsed search space. */
export type Space = z.output<typeof SpaceSchema>;
/** A value a parameter can take. */
export type ParamValue = string | number | boolean;
/** One point of the space: parameter name → value. */
export type Params = Record<string, ParamValue>;

/** Why one value does not belong to its parameter, or null when it does. */
export function paramValueProblem(spec: ParamSpec, value: unknown): string | null {
  if (spec.type === 'categorical') {
    return spec.choices.some((c) => c === value) ? null : `must be one of ${spec.choices.map((c) => JSON.stringify(c)).join(', ')}`;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a finite number';
  if (spec.type === 'int' && !Number.isInteger(value)) return 'must be an integer';
  if (value < spec.low || value > spec.high) return `must be within [${spec.low}, ${spec.high}]`;
  if (spec.step !== undefined && !onStep(value, spec.low, spec.step)) return `must be ${spec.low} + k·${spec.step}`;
  return null;
}

/** One problem of a params object, named by its field. */
export interface ParamsIssue {
  path: string;
  message: string;
}

/** Checks a params object against the space: every parameter present and valid, no unknown key. Empty when it fits. */
export function validateParams(space: Space, params: Record<string, unknown>): ParamsIssue[] {
  const issues: ParamsIssue[] = [];
  for (const [name, spec] of Object.entries(space)) {
    if (!(name in params)) {
      issues.push({ path: name, message: 'missing' });
      continue;
    }
    const problem = paramValueProblem(spec, params[name]);
    if (problem !== null) issues.push({ path: name, message: problem });
  }
  for (const name of Object.keys(params)) if (!(name in space)) issues.push({ path: name, message: 'not a parameter of this space' });
  return issues;
}

/** The number of distinct values of a discrete parameter (int, stepped float, categorical); Infinity for a continuous float. */
export function cardinality(spec: ParamSpec): number {
  if (spec.type === 'categorical') return spec.choices.length;
  if (spec.type === 'int') return Math.floor((spec.high - spec.low) / (spec.step ?? 1)) + 1;
  return spec.step === undefined ? (spec.low === spec.high ? 1 : Infinity) : Math.round((spec.high - spec.low) / spec.step) + 1;
}
