/** The one zod schema for all configuration; module slices are added from the registered modules. */
import * as z from 'zod';
import { DEFAULT_LOGIN_LIMIT } from '../http/login-limit.ts';
import { DEFAULT_STREAM_LIMITS } from '../http/stream-limits.ts';
import { llmConfigSchema } from '../llm/config/schema.ts';
import type { Module } from '../module.ts';

/** Scopes a token may carry: `admin`, `events:write`, `<module>:read`, `<module>:write`. */
export const scopeSchema = z.string().regex(/^(admin|[a-z][a-z0-9-]*:(read|write))$/, 'scope must be admin or <name>:read|write');

/** A bearer token as stored in config: only its SHA-256 hash, never the token itself. */
export const tokenSchema = z.strictObject({
  name: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 lower-case hex characters (capstan token hash <token>)'),
  scopes: z.array(scopeSchema).min(1),
  /** Requests per minute for this token; overrides auth.rateLimitPerMinute. */
  rateLimitPerMinute: z.number().int().positive().optional(),
});

const urlSchema = (protocols: string[]) =>
  z
    .string()
    .refine((v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, `must be a URL with scheme ${protocols.join(' or ')}`);

/** Comma-separated URLs, each with one of the schemes. */
const urlListSchema = (protocols: string[]) =>
  z.string().refine((v) => {
    const parts = v.split(',').map((x) => x.trim());
    return parts.every((p) => {
      try {
        return protocols.includes(new URL(p).protocol);
      } catch {
        return false;
      }
    });
  }, `must be a URL with scheme ${protocols.join(' or ')} (several: comma-separated)`);

/** The kernel's part of the configuration. */
export const kernelConfigShape = {
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(7070),
      role: z.enum(['api', 'worker', 'all']).default('all'),
      bodyLimitBytes: z.number().int().positive().default(1_048_576),
      shutdownTimeoutMs: z.number().int().positive().default(10_000),
      /** Development mode (`serve --dev`): modules reload the files they load from the project (e.g. agents' extensions) when they change. */
      dev: z.boolean().default(false),
      /** What one /api/v1/events stream (SSE or WebSocket) holds for a client that reads slower than events arrive. */
      eventStream: z
        .strictObject({
          maxEvents: z.number().int().positive().default(DEFAULT_STREAM_LIMITS.maxEvents),
          maxBytes: z.number().int().min(1024).default(DEFAULT_STREAM_LIMITS.maxBytes),
          closeGraceSeconds: z.number().int().min(1).max(960).default(DEFAULT_STREAM_LIMITS.closeGraceSeconds),
        })
        .prefault({}),
    })
    .prefault({}),
  dataDir: z.string().default('./.capstan/data'),
  /** Namespace for NATS subjects and streams, BullMQ keys and KV buckets, so deployments can share servers. */
  prefix: z.string().regex(/^[a-z][a-z0-9_]*$/, 'prefix must be lower-case letters, digits and _').default('capstan'),
  /** `readUrl`: a streaming replica for list and count queries (see Database.readDb); only with `url`. */
  database: z.strictObject({ url: urlSchema(['postgres:', 'postgresql:']).optional(), readUrl: urlSchema(['postgres:', 'postgresql:']).optional() }).prefault({}),
  /** `sentinel`: find the primary through Redis Sentinel; `url` then gives credentials, database and TLS only. */
  redis: z
    .strictObject({
      url: urlSchema(['redis:', 'rediss:']).optional(),
      sentinel: z
        .strictObject({
          masterName: z.string().min(1),
          nodes: z.array(z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^\s:\[\]]+):\d{1,5}$/, 'must be host:port')).min(1),
          password: z.string().min(1).optional(),
        })
        .optional(),
    })
    .prefault({}),
  /** One server, or the servers of one cluster comma-separated (`nats://a:4222,nats://b:4222`); the client fails over between them. */
  nats: z.strictObject({ url: urlListSchema(['nats:', 'tls:']).optional() }).prefault({}),
  /** How long to keep retrying an unreachable dependency at start before exiting non-zero. */
  startupTimeoutMs: z.number().int().positive().default(30_000),
  log: z.strictObject({ level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info') }).prefault({}),
  auth: z
    .strictObject({
      /** Default: on in distributed mode, off in embedded mode. */
      enabled: z.boolean().optional(),
      tokens: z.array(tokenSchema).default([]),
      rateLimitPerMinute: z.number().int().positive().default(6000),
      /** Failed console sign-ins allowed per client address in one window; past that the address gets 429. */
      login: z
        .strictObject({
          maxFailures: z.number().int().positive().default(DEFAULT_LOGIN_LIMIT.maxFailures),
          windowMs: z.number().int().positive().default(DEFAULT_LOGIN_LIMIT.windowMs),
        })
        .prefault({}),
    })
    .prefault({}),
  queue: z
    .strictObject({
      controllerTimeoutMs: z.number().int().positive().default(120_000),
      defaultTimeoutMs: z.number().int().positive().default(600_000),
      stalledIntervalMs: z.number().int().positive().default(30_000),
    })
    .prefault({}),
  leases: z.strictObject({ defaultTtlMs: z.number().int().positive().default(10_000) }).prefault({}),
  /** Membership of the instances that hold sharded roles: how often each heartbeats, and when a silent one is dropped. */
  roles: z
    .strictObject({
      heartbeatMs: z.number().int().min(100).default(1_000),
      memberTimeoutMs: z.number().int().min(200).default(5_000),
    })
    .refine((r) => r.memberTimeoutMs >= 2 * r.heartbeatMs, { message: 'memberTimeoutMs must be at least twice heartbeatMs', path: ['memberTimeoutMs'] })
    .prefault({}),
  /** OpenTelemetry traces over OTLP/HTTP (JSON); off while `endpoint` is unset (see docs/tracing.md). */
  tracing: z
    .strictObject({
      endpoint: urlSchema(['http:', 'https:']).optional(),
      serviceName: z.string().min(1).default('capstan'),
      sampleRatio: z.number().min(0).max(1).default(1),
      headers: z.record(z.string(), z.string()).default({}),
      exportIntervalMs: z.number().int().positive().default(1_000),
    })
    .prefault({}),
  /** LLM providers, prices, limits and fallbacks (src/kernel/llm); keys come from the variables `apiKeyEnv` names. */
  llm: llmConfigSchema,
};

/** Builds the full schema: the kernel part plus `modules.<name>` for each registered module. */
export function buildConfigSchema(modules: readonly Module[]) {
  const moduleShape: Record<string, z.ZodType> = {};
  for (const m of modules) moduleShape[m.name] = m.configSchema;
  return z.strictObject({ ...kernelConfigShape, modules: z.strictObject(moduleShape).prefault({}) });
}

/** The effective configuration after defaults, file, environment and flags. */
export type KernelConfig = z.output<z.ZodObject<typeof kernelConfigShape>> & {
  modules: Record<string, { enabled: boolean } & Record<string, unknown>>;
};

/** The schema of a module slice that has nothing but the feature flag. */
export const enabledOnly = z.strictObject({ enabled: z.boolean().default(true) }).prefault({});
