/** Reads deploy/compose.yaml the way Compose does: merge keys applied, then `${VAR:-default}` and `${VAR:?err}` resolved from deploy/.env.example. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './server-process.ts';

export const COMPOSE_PATH = join(REPO_ROOT, 'deploy/compose.yaml');
export const ENV_EXAMPLE_PATH = join(REPO_ROOT, 'deploy/.env.example');

/** A service as the tests read it (the fields they check). */
export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  stop_grace_period?: string;
  read_only?: boolean;
  tmpfs?: string[];
  deploy?: { replicas?: number };
}

/** KEY=VALUE lines of an env file; one pair of surrounding quotes is removed, as Compose does. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`not KEY=VALUE: ${line}`);
    let value = line.slice(eq + 1);
    if (value.length >= 2 && (value[0] === "'" || value[0] === '"') && value.at(-1) === value[0]) value = value.slice(1, -1);
    out[line.slice(0, eq)] = value;
  }
  return out;
}

/** Names of the variables a compose text interpolates. */
export function referencedVariables(text: string): Set<string> {
  return new Set([...text.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1]!));
}

/** Replaces `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `${VAR:?message}` the way Compose does. */
export function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}/g, (_, name: string, op: string | undefined, arg: string | undefined) => {
    const value = vars[name];
    const empty = value === undefined || (op?.startsWith(':') && value === '');
    if (!empty) return value!;
    if (op?.endsWith('?')) throw new Error(`required variable ${name} is not set: ${arg}`);
    return op ? (arg ?? '') : '';
  });
}

/** Interpolates every string of a parsed tree: Compose substitutes after parsing, so a value stays a string whatever it holds. */
function interpolateTree(node: unknown, vars: Record<string, string>): unknown {
  if (typeof node === 'string') return interpolate(node, vars);
  if (Array.isArray(node)) return node.map((n) => interpolateTree(n, vars));
  if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateTree(v, vars)]));
  return node;
}

/** The compose file parsed, merge keys applied, with the example's variables substituted. */
export function loadCompose(vars = parseEnvFile(readFileSync(ENV_EXAMPLE_PATH, 'utf8'))): { name?: string; services: Record<string, ComposeService>; volumes: Record<string, unknown> } {
  return interpolateTree(parse(readFileSync(COMPOSE_PATH, 'utf8'), { merge: true }), vars) as ReturnType<typeof loadCompose>;
}
