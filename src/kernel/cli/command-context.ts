/**
 * What a command of a table receives: its parsed flags and arguments, the client, typed calls of the module's routes,
 * and readers of flag values that turn a bad value into a usage error naming the flag (exit 2).
 */
import { readFileSync } from 'node:fs';
import type * as z from 'zod';
import { ClientError, failureMessage, type SendOptions } from './client.ts';
import type { CliClient } from '../module.ts';
import { zodIssues } from '../validation.ts';
import { UsageError } from './args.ts';
import { callTarget, type CallableRoute, type RouteInput, type RouteOutput } from './typed-call.ts';

/** Flags as node's parseArgs takes them. */
export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

type One<O> = O extends { type: 'boolean' } ? boolean : string;
/** The parsed values of a flag spec: each flag optional, repeated ones as arrays. */
export type FlagValues<F> = { [K in keyof F]?: F[K] extends { multiple: true } ? One<F[K]>[] : One<F[K]> };

/** How a call names the flags and arguments its fields came from, e.g. `{ 'body.status': '--to' }`. */
export type FieldNames = Record<string, string>;

/** The context of one command run. */
export interface CommandContext<F extends FlagSpec> {
  /** The command's name as typed (several names may share one command). */
  name: string;
  client: CliClient;
  flags: FlagValues<F>;
  /** Positional arguments, checked against the command's `args`. */
  args: string[];
  /**
   * Calls a route of this module as the server declares it: input checked against the route's own request schemas
   * first (a bad value is a usage error naming its flag: `names` maps fields to flags, default `query.runState` →
   * `--run-state`), the answer checked against its documented 2xx schema and returned typed.
   */
  call<R extends CallableRoute>(route: R, input: RouteInput<R>, names?: FieldNames): Promise<RouteOutput<R>>;
  /**
   * Sends a request under this module's API base (`/health` → `/api/v1/<module>/health`) for routes that do not
   * export their schemas; with `answer`, the body is parsed by that schema (what the command reads) and typed.
   */
  send(method: string, path: string, what?: SendOptions): Promise<unknown>;
  send<S extends z.ZodType>(method: string, path: string, what: SendOptions | undefined, answer: S): Promise<z.output<S>>;
  /** A string flag the command cannot do without. */
  need(flag: keyof F & string): string;
  /** A numeric flag (optional); not a number, or outside the bounds, is a usage error. */
  number(flag: keyof F & string, opts?: { integer?: boolean; positive?: boolean; min?: number; max?: number }): number | undefined;
  /** A JSON flag (optional); text that is not JSON is a usage error. */
  json(flag: keyof F & string): unknown;
  /** The text of a file named by a flag or argument; unreadable is a usage error naming it. */
  readFile(file: string, what?: string): string;
}

function kebab(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The flag or argument a field of a request came from, for messages. */
function flagOf(path: string, names: FieldNames): string {
  const known = Object.entries(names).find(([field]) => path === field || path.startsWith(`${field}.`));
  if (known) return known[1];
  const [where, field] = path.split('.');
  if (!field) return path;
  return where === 'params' ? field : `--${kebab(field)}`;
}

function isZod(s: unknown): s is z.ZodType {
  return typeof (s as { safeParse?: unknown } | undefined)?.safeParse === 'function';
}

/** The zod schema of an `application/json` entry, if the route states one by zod. */
function jsonSchema(entry: unknown): z.ZodType | undefined {
  const schema = (entry as { content?: Record<string, { schema?: unknown }> } | undefined)?.content?.['application/json']?.schema;
  return isZod(schema) ? schema : undefined;
}

interface RouteShape extends CallableRoute {
  request?: { params?: unknown; query?: unknown; body?: unknown };
  responses?: Record<string, unknown>;
}

/**
 * A refusal by the server with each bad field followed by the flag it came from (`body.to (--to): ...`). Body fields
 * are named only when `names` says so: a body read from a file has fields that are no flags.
 */
function withFlags(err: unknown, names: FieldNames): unknown {
  if (!(err instanceof ClientError) || !Array.isArray(err.problem?.errors)) return err;
  const label = (path: string) => {
    const named = Object.keys(names).some((field) => path === field || path.startsWith(`${field}.`));
    return named || /^(params|query)\.\w/.test(path) ? `${path} (${flagOf(path, names)})` : path;
  };
  return new ClientError(err.status, err.problem, failureMessage(err.status, '', err.problem, label));
}

/** Checks one part of the input with the route's schema, the way the server will; failures name their flags. */
function checkPart(schema: unknown, part: 'params' | 'query' | 'body', value: unknown, names: FieldNames): void {
  if (!isZod(schema) || value === undefined) return;
  const r = schema.safeParse(value);
  if (r.success) return;
  // The flag, and the field inside its value when the fault is deeper (`--object (body.object.note): ...`).
  const named = (path: string) => (path.split('.').length > 2 ? `${flagOf(path, names)} (${path})` : flagOf(path, names));
  throw new UsageError(zodIssues(r.error, part).map((i) => `${named(i.path)}: ${i.message}`).join('; '));
}

/** Parses an answer by its schema; a server that answers other than its document says is a defect to report, not a shape to guess at. */
function checkAnswer(schema: z.ZodType, answer: unknown, what: string): unknown {
  const parsed = schema.safeParse(answer);
  if (!parsed.success) throw new Error(`the answer of ${what} does not match its schema: ${zodIssues(parsed.error).map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** Builds the context of one run. */
export function commandContext<F extends FlagSpec>(o: { name: string; base: string; client: CliClient; flags: Record<string, unknown>; args: string[]; flagSpec: F }): CommandContext<F> {
  const flags = o.flags as FlagValues<F>;
  const str = (flag: string): string | undefined => {
    const v = o.flags[flag];
    return typeof v === 'string' ? v : undefined;
  };
  return {
    name: o.name,
    client: o.client,
    flags,
    args: o.args,
    need(flag) {
      const v = str(flag);
      if (v === undefined || v === '') throw new UsageError(`${o.name} needs --${flag}`);
      return v;
    },
    number(flag, opts = {}) {
      const v = str(flag);
      if (v === undefined) return undefined;
      const n = Number(v);
      const bounds = [opts.positive ? 'a positive' : opts.integer ? 'an' : 'a', opts.integer ? 'integer' : 'number', opts.min !== undefined ? `>= ${opts.min}` : '', opts.max !== undefined ? `<= ${opts.max}` : ''].filter(Boolean).join(' ');
      if (v.trim() === '' || !Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || (opts.positive && n <= 0) || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) throw new UsageError(`--${flag} must be ${bounds}, got '${v}'`);
      return n;
    },
    json(flag) {
      const v = str(flag);
      if (v === undefined) return undefined;
      try {
        return JSON.parse(v);
      } catch {
        throw new UsageError(`--${flag} must be JSON, got '${v.slice(0, 60)}'`);
      }
    },
    readFile(file, what = 'file') {
      try {
        return readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`cannot read ${what} ${file}: ${(err as Error).message}`);
      }
    },
    async send(method: string, path: string, what?: SendOptions, answer?: z.ZodType) {
      const body = await o.client.send(method, `${o.base}${path}`, what);
      return answer ? checkAnswer(answer, body, `${method} ${o.base}${path}`) : body;
    },
    async call(route, input, names = {}) {
      const r = route as RouteShape;
      const given = input as { params?: unknown; query?: Record<string, unknown>; body?: unknown; raw?: { text: string; contentType: string }; headers?: Record<string, string> };
      // What the server sees: query values as strings, the body after a JSON round trip (undefined fields gone).
      const query = given.query ? Object.fromEntries(Object.entries(given.query).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])) : undefined;
      const body = given.body === undefined ? undefined : JSON.parse(JSON.stringify(given.body));
      checkPart(r.request?.params, 'params', given.params, names);
      checkPart(r.request?.query, 'query', query, names);
      checkPart(jsonSchema(r.request?.body), 'body', body, names);
      const answer = await o.client
        .send(r.method.toUpperCase(), callTarget(o.base, r, { params: given.params, query }), { body, raw: given.raw, headers: given.headers })
        .catch((err: unknown) => Promise.reject(withFlags(err, names)));
      // A route may document several successes (200 done, 202 pending): the answer must match one of them.
      const schemas = Object.entries(r.responses ?? {})
        .filter(([status]) => /^2\d\d$/.test(status))
        .map(([, res]) => jsonSchema(res))
        .filter((x): x is z.ZodType => x !== undefined);
      if (schemas.length === 0) return answer as RouteOutput<typeof route>;
      for (const schema of schemas) {
        const parsed = schema.safeParse(answer);
        if (parsed.success) return parsed.data as RouteOutput<typeof route>;
      }
      return checkAnswer(schemas[0]!, answer, `${r.method.toUpperCase()} ${o.base}${r.path}`) as RouteOutput<typeof route>;
    },
  };
}
