/** Loads configuration from defaults < YAML file < environment < flags, and validates it with one schema. */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { FieldIssue } from '../errors.ts';
import { resolveApiKeys } from '../llm/config/api-keys.ts';
import type { Module } from '../module.ts';
import { zodIssues } from '../validation.ts';
import { buildConfigSchema, type KernelConfig } from './schema.ts';

/** A configuration that failed to load; `issues` names every bad field and why. */
export class ConfigError extends Error {
  constructor(readonly issues: FieldIssue[]) {
    super(`invalid configuration:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Tree = Record<string, unknown>;

/** Variables read by the client commands or by this loader itself, so not config keys. */
const NON_CONFIG_VARS = new Set(['CAPSTAN_CONFIG', 'CAPSTAN_SERVER', 'CAPSTAN_TOKEN', 'CAPSTAN_MODULES']);

/** Single-word shortcuts for the settings people set most often. */
const ENV_SHORTCUTS: Record<string, string> = {
  CAPSTAN_HOST: 'server.host',
  CAPSTAN_PORT: 'server.port',
  CAPSTAN_ROLE: 'server.role',
  CAPSTAN_DATA_DIR: 'dataDir',
  CAPSTAN_PREFIX: 'prefix',
  CAPSTAN_LOG_LEVEL: 'log.level',
  DATABASE_URL: 'database.url',
  DATABASE_READ_URL: 'database.readUrl',
  REDIS_URL: 'redis.url',
  NATS_URL: 'nats.url',
  // The OpenTelemetry SDKs' own names, so a platform that sets them for every service configures Capstan too.
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'tracing.endpoint',
  OTEL_SERVICE_NAME: 'tracing.serviceName',
};

/** Where the configuration comes from. */
export interface ConfigSources {
  /** Path of a YAML (or JSON) file; defaults to $CAPSTAN_CONFIG. */
  file?: string;
  env?: Record<string, string | undefined>;
  /** Values from command-line flags, as dotted paths (e.g. {'server.port': 8080}). */
  flags?: Record<string, unknown>;
  /** For node daemons that open no database and serve no API: skips the mode and auth cross-checks. */
  daemon?: boolean;
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1]!] = value;
}

function deepMerge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const bothObjects = v && b && typeof v === 'object' && typeof b === 'object' && !Array.isArray(v) && !Array.isArray(b);
    out[k] = bothObjects ? deepMerge(b as Tree, v as Tree) : v;
  }
  return out;
}

/** Env values are YAML scalars, so `8080`, `true` and `[a, b]` get their natural types. */
function envValue(raw: string): unknown {
  try {
    return parseYaml(raw);
  } catch {
    return raw;
  }
}

/** `CAPSTAN_SERVER__PORT=8080` sets server.port: `__` separates levels, `_` inside a level becomes camelCase. */
function envPath(name: string): string {
  return name
    .slice('CAPSTAN_'.length)
    .split('__')
    .map((seg) => seg.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()))
    .join('.');
}

function fromEnv(env: Record<string, string | undefined>, modules: readonly Module[], issues: FieldIssue[], origins: Map<string, string>): Tree {
  const tree: Tree = {};
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || NON_CONFIG_VARS.has(name)) continue;
    const path = ENV_SHORTCUTS[name] ?? (name.startsWith('CAPSTAN_') ? envPath(name) : undefined);
    if (!path) continue;
    setPath(tree, path, envValue(raw));
    origins.set(path, name);
  }
  const list = env.CAPSTAN_MODULES;
  if (list !== undefined) {
    const wanted = list.split(',').map((s) => s.trim()).filter(Boolean);
    const known = new Set(modules.map((m) => m.name));
    for (const w of wanted) if (!known.has(w)) issues.push({ path: 'CAPSTAN_MODULES', message: `unknown module '${w}' (known: ${[...known].join(', ') || 'none'})` });
    for (const m of modules) setPath(tree, `modules.${m.name}.enabled`, wanted.includes(m.name));
  }
  return tree;
}

function fromFile(path: string, issues: FieldIssue[]): Tree {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    issues.push({ path: '--config', message: `cannot read ${path}: ${(err as Error).message}` });
    return {};
  }
  try {
    const parsed: unknown = parseYaml(text);
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      issues.push({ path: '--config', message: `${path} must hold a mapping at the top level` });
      return {};
    }
    return parsed as Tree;
  } catch (err) {
    issues.push({ path: '--config', message: `${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}` });
    return {};
  }
}

/** Cross-field rules that one field's schema cannot express. */
function crossCheck(cfg: KernelConfig): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const urls = { 'database.url (DATABASE_URL)': cfg.database.url, 'redis.url (REDIS_URL)': cfg.redis.url, 'nats.url (NATS_URL)': cfg.nats.url };
  const set = Object.values(urls).filter(Boolean).length;
  if (set > 0 && set < 3) {
    for (const [name, v] of Object.entries(urls)) {
      if (!v) issues.push({ path: name.split(' ')[0]!, message: `${name} is missing: distributed mode needs all of DATABASE_URL, REDIS_URL and NATS_URL (embedded mode needs none)` });
    }
  }
  const mode = set === 3 ? 'distributed' : 'embedded';
  if (cfg.redis.sentinel && !cfg.redis.url) issues.push({ path: 'redis.sentinel', message: 'redis.sentinel needs redis.url (REDIS_URL) too: it gives the credentials and database; write redis://127.0.0.1 if there are none' });
  if (cfg.database.readUrl && !cfg.database.url) issues.push({ path: 'database.readUrl', message: 'database.readUrl (DATABASE_READ_URL) names a replica of database.url (DATABASE_URL), which is not set' });
  const auth = authEnabled(cfg);
  if (auth && cfg.auth.tokens.length === 0) {
    issues.push({ path: 'auth.tokens', message: `auth is on (the default in ${mode} mode) but no tokens are configured; add tokens or set auth.enabled: false` });
  }
  if (!auth && !isLoopback(cfg.server.host)) {
    issues.push({ path: 'server.host', message: `refusing to serve without auth on ${cfg.server.host}: configure auth.tokens or bind to 127.0.0.1` });
  }
  return issues;
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** Auth is on when configured so, else by default in distributed mode or whenever tokens exist. */
export function authEnabled(cfg: KernelConfig): boolean {
  return cfg.auth.enabled ?? (modeOf(cfg) === 'distributed' || cfg.auth.tokens.length > 0);
}

/** Loads and validates the configuration; throws ConfigError naming every bad field. */
export function loadConfig(modules: readonly Module[], sources: ConfigSources = {}): KernelConfig {
  const env = sources.env ?? process.env;
  const issues: FieldIssue[] = [];
  const file = sources.file ?? env.CAPSTAN_CONFIG;
  let tree: Tree = file ? fromFile(file, issues) : {};
  const origins = new Map<string, string>();
  tree = deepMerge(tree, fromEnv(env, modules, issues, origins));
  for (const [path, value] of Object.entries(sources.flags ?? {})) if (value !== undefined) setPath(tree, path, value);
  resolveApiKeys(tree, env, issues);
  const parsed = buildConfigSchema(modules).safeParse(tree);
  if (!parsed.success) {
    // Say which variable set a bad or unknown key, so a typo in the environment is as easy to find as one in the file.
    for (const issue of zodIssues(parsed.error)) {
      const origin = [...origins].find(([path]) => issue.path === path || issue.path.startsWith(`${path}.`))?.[1];
      issues.push(origin ? { ...issue, message: `${issue.message} (from ${origin})` } : issue);
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  const cfg = parsed.data as KernelConfig;
  const more = sources.daemon ? [] : crossCheck(cfg);
  if (more.length > 0) throw new ConfigError(more);
  return cfg;
}

/** `distributed` when all three service URLs are set, else `embedded`. */
export function modeOf(cfg: KernelConfig): 'embedded' | 'distributed' {
  return cfg.database.url && cfg.redis.url && cfg.nats.url ? 'distributed' : 'embedded';
}
