/** YAML or JSON text (or a parsed value) -> a checked cascade definition, or one Invalid naming every bad field. */
import { parseDocument } from 'yaml';
import * as z from 'zod';
import { collectTemplateRefs, duplicateJsonKeys, Invalid, parseHostAllowlist, unsafeKeyIssues, WHOLE_VALUE, zodIssues, type FieldIssue } from '../../../kernel/index.ts';
import { cascadeSchema, type CascadeDefinition, type ValidatorRef } from './definition.ts';
import { refuseSessionSql } from './sql-guard.ts';
import { checkTriggers } from './triggers.ts';
import { VALIDATORS, VALIDATOR_NAMES } from './validators.ts';

/** Largest definition text accepted (characters). */
export const MAX_DEFINITION_CHARS = 256 * 1024;
/** Tools a soundings phase may not offer, and why (the 400's detail names the field and gives the reason). */
const SOUNDING_UNSAFE_TOOLS: ReadonlyMap<string, string> = new Map([
  [
    'ask_human',
    'ask_human cannot be used with soundings: the attempts run in parallel, so one person would get the same question from each attempt at once, and the answer to one attempt is not an answer to the others; ask in a phase before or after the soundings',
  ],
  [
    'browser',
    "browser cannot be used with soundings (not built): a session has one browser context, and parallel attempts would drive the same pages; per-attempt contexts, with the winner's browser state kept, are not built",
  ],
]);
/** Roots a template may read. */
export const TEMPLATE_ROOTS = ['input', 'state', 'outputs'];

function invalid(message: string, path: string = WHOLE_VALUE): never {
  throw new Invalid(`invalid cascade definition: ${message}`, [{ path, message }]);
}

function parseText(text: string, format: 'yaml' | 'json'): unknown {
  if (format === 'json') {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      invalid(`invalid JSON: ${(err as Error).message}`);
    }
    const repeated = duplicateJsonKeys(text);
    if (repeated.length > 0) throw new Invalid('invalid cascade definition: a key is repeated', repeated.map((path) => ({ path: path || WHOLE_VALUE, message: 'this key appears more than once' })));
    return doc;
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => ({ path: WHOLE_VALUE, message: (e.message.split('\n')[0] ?? e.message).trim() }));
    throw new Invalid(`invalid YAML: ${issues[0]!.message}`, issues);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    invalid((err as Error).message);
  }
}

function checkValidator(ref: ValidatorRef, path: string, issues: FieldIssue[]): void {
  if (typeof ref === 'object' && 'cascade' in ref) return;
  if (typeof ref === 'string') {
    if (!VALIDATORS[ref]) issues.push({ path, message: `unknown validator '${ref}' (known: ${VALIDATOR_NAMES.join(', ')}, or { json_schema: ... })` });
    return;
  }
  try {
    z.fromJSONSchema(ref.json_schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (err) {
    issues.push({ path: `${path}.json_schema`, message: `not a usable JSON schema: ${(err as Error).message}` });
  }
}

/** Checks what the schema cannot: references between phases, templates, validators, and features not built yet. */
function crossCheck(def: CascadeDefinition): FieldIssue[] {
  const issues: FieldIssue[] = [];
  // Checked here, not when http_get runs: a bad entry would otherwise only show as a tool error in some session's log.
  def.allow_hosts.forEach((h, i) => {
    try {
      parseHostAllowlist([h]);
    } catch {
      issues.push({ path: `allow_hosts.${i}`, message: `'${h}' is not a host entry: use host, *.domain, host:port or [ipv6]:port` });
    }
  });
  const names = new Map<string, number>();
  def.phases.forEach((p, i) => {
    if (names.has(p.name)) issues.push({ path: `phases.${i}.name`, message: `phase '${p.name}' is defined twice (first at phases.${names.get(p.name)})` });
    else names.set(p.name, i);
  });
  def.phases.forEach((p, i) => {
    const at = `phases.${i}`;
    p.handoffs.forEach((h, j) => {
      if (!names.has(h)) issues.push({ path: `${at}.handoffs.${j}`, message: `no phase named '${h}'` });
      else if (h === p.name) issues.push({ path: `${at}.handoffs.${j}`, message: 'a phase cannot hand off to itself' });
    });
    p.context.from.forEach((h, j) => {
      if (!names.has(h)) issues.push({ path: `${at}.context.from.${j}`, message: `no phase named '${h}'` });
    });
    if (p.tools.includes('route_to') && p.handoffs.length < 2) issues.push({ path: `${at}.tools`, message: 'route_to needs at least two handoffs to choose from' });
    const kinds = [p.human_input && 'human_input', p.sql !== undefined && 'sql', p.for_each_row && 'for_each_row'].filter((k): k is string => typeof k === 'string');
    if (kinds.length > 1) issues.push({ path: `${at}.${kinds[1]}`, message: `a phase is one of instructions, human_input, sql or for_each_row (this one also has ${kinds[0]})` });
    if (p.sql !== undefined || p.for_each_row) {
      const field = p.sql !== undefined ? 'sql' : 'for_each_row';
      if (p.instructions !== undefined || p.tools.length > 0 || p.soundings || p.output_schema || p.wards || p.loop_until !== undefined) issues.push({ path: `${at}.${field}`, message: `a ${field} phase runs no model: it has no instructions, tools, soundings, output_schema, wards or loop_until` });
      if (p.sql !== undefined) {
        const reason = refuseSessionSql(p.sql);
        if (reason) issues.push({ path: `${at}.sql`, message: reason });
      }
      if (p.for_each_row) {
        const f = p.for_each_row;
        if (!names.has(f.table.slice(1))) issues.push({ path: `${at}.for_each_row.table`, message: `no phase named '${f.table.slice(1)}' makes table ${f.table}` });
        else if (f.table.slice(1) === p.name) issues.push({ path: `${at}.for_each_row.table`, message: 'a phase cannot read its own result table' });
        const { issues: bad } = collectTemplateRefs(f.inputs, `${at}.for_each_row.inputs`, { roots: [...TEMPLATE_ROOTS, 'row'] });
        issues.push(...bad);
      }
    } else if (p.human_input) {
      if (p.instructions !== undefined || p.tools.length > 0 || p.soundings || p.output_schema) issues.push({ path: `${at}.human_input`, message: 'a human_input phase asks a person: it has no instructions, tools, soundings or output_schema' });
    } else {
      if (p.instructions === undefined) issues.push({ path: `${at}.instructions`, message: 'a phase needs instructions (or human_input)' });
      if (!p.model && !def.model) issues.push({ path: `${at}.model`, message: 'no model: set model on the phase or on the cascade' });
    }
    // Attempts run in parallel: a question to a person or the session's one browser would tie them together
    // (run_cascade is fine: each attempt waits for its own children in the worker, runtime/attempt-children.ts).
    if (p.soundings) p.tools.forEach((t, j) => {
      const why = SOUNDING_UNSAFE_TOOLS.get(t);
      if (why) issues.push({ path: `${at}.tools.${j}`, message: why });
    });
    if (p.ask_human && !p.tools.includes('ask_human')) issues.push({ path: `${at}.ask_human`, message: "sets the timeout of ask_human questions: add ask_human to the phase's tools" });
    if (p.instructions !== undefined) {
      const { refs, issues: bad } = collectTemplateRefs(p.instructions, `${at}.instructions`, { roots: TEMPLATE_ROOTS });
      issues.push(...bad);
      for (const r of refs) {
        const name = r.ref.segments[0];
        if (r.ref.root === 'input' && name !== undefined && !Object.hasOwn(def.inputs_schema, name)) issues.push({ path: r.path, message: `input '${name}' is not declared in inputs_schema` });
      }
    }
    p.async_cascades.forEach((a, j) => issues.push(...collectTemplateRefs(a.inputs, `${at}.async_cascades.${j}.inputs`, { roots: TEMPLATE_ROOTS }).issues));
    p.wards?.pre.forEach((w, j) => checkValidator(w.validator, `${at}.wards.pre.${j}.validator`, issues));
    p.wards?.post.forEach((w, j) => checkValidator(w.validator, `${at}.wards.post.${j}.validator`, issues));
    if (p.loop_until !== undefined) checkValidator(p.loop_until, `${at}.loop_until`, issues);
    if (p.output_schema) checkValidator({ json_schema: p.output_schema }, `${at}.output_schema`, issues);
  });
  checkTriggers(def.triggers, issues);
  return issues;
}

/** Checks an already-parsed document (e.g. a JSON request body). */
export function checkDefinition(doc: unknown): CascadeDefinition {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) invalid('a cascade is a mapping with cascade_id and phases');
  const unsafe = unsafeKeyIssues(doc);
  const parsed = cascadeSchema.safeParse(doc);
  if (!parsed.success || unsafe.length > 0) throw new Invalid('invalid cascade definition', [...unsafe, ...(parsed.error ? zodIssues(parsed.error) : [])]);
  const issues = crossCheck(parsed.data);
  if (issues.length > 0) throw new Invalid(`invalid cascade definition: ${issues[0]!.message}`, issues);
  return parsed.data;
}

/** Parses YAML (default; JSON is YAML too) or strict JSON text and checks it. */
export function parseDefinition(text: string, format: 'yaml' | 'json' = 'yaml'): CascadeDefinition {
  if (text.length > MAX_DEFINITION_CHARS) invalid(`the definition is longer than ${MAX_DEFINITION_CHARS} characters`);
  if (text.trim() === '') invalid('the definition is empty');
  return checkDefinition(parseText(text, format));
}

/** Checks run inputs against `inputs_schema`: required ones present, types right, defaults filled; Invalid names `inputs.<name>`. */
export function checkInputs(def: CascadeDefinition, inputs: Record<string, unknown>): Record<string, unknown> {
  const issues: FieldIssue[] = [];
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(inputs)) if (!Object.hasOwn(def.inputs_schema, k)) issues.push({ path: `inputs.${k}`, message: `'${k}' is not an input of cascade ${def.cascade_id}` });
  for (const [k, spec] of Object.entries(def.inputs_schema)) {
    let v = inputs[k];
    if (v === undefined) v = spec.default;
    if (v === undefined) {
      if (spec.required) issues.push({ path: `inputs.${k}`, message: 'required' });
      continue;
    }
    const ok =
      spec.type === 'array' ? Array.isArray(v)
      : spec.type === 'object' ? v !== null && typeof v === 'object' && !Array.isArray(v)
      : spec.type === 'integer' ? Number.isInteger(v)
      : typeof v === spec.type;
    if (!ok) issues.push({ path: `inputs.${k}`, message: `expected ${spec.type}` });
    out[k] = v;
  }
  if (issues.length > 0) throw new Invalid(`invalid inputs: ${issues[0]!.path}: ${issues[0]!.message}`, issues);
  return out;
}
