/** A mesh workload: what runs (a local process or a webhook pair), where (topology) and how strictly (consistency). */
import * as z from 'zod';

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** Workload names are single KV key tokens too. */
export const workloadNameSchema = z.string().regex(NAME, 'lower-case letters, digits and -, starting with a letter or digit (max 63)');
/** Node ids are single KV key tokens. */
export const nodeIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'letters, digits, - and _ (max 63)');

const healthSchema = z.union([
  z.strictObject({ url: z.string().min(1), intervalMs: z.number().int().min(50).default(500), timeoutMs: z.number().int().min(50).default(1_000) }),
  z.strictObject({ command: z.array(z.string().min(1)).min(1), intervalMs: z.number().int().min(50).default(500), timeoutMs: z.number().int().min(50).default(1_000) }),
]);

const processSchema = z.strictObject({
  kind: z.literal('process'),
  argv: z.array(z.string().min(1)).min(1),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
  cwd: z.string().optional(),
  health: healthSchema.optional(),
  restart: z.enum(['always', 'on-failure', 'never']).default('on-failure'),
});

const webhookSchema = z.strictObject({
  kind: z.literal('webhook'),
  startUrl: z.url(),
  stopUrl: z.url(),
  health: healthSchema.optional(),
});

const topologySchema = z.discriminatedUnion('kind', [
  /** One active replica on the primary site, standbys after it in site order. */
  z.strictObject({ kind: z.literal('failover'), sites: z.array(z.string().min(1)).min(1) }),
  /** N replicas spread over nodes (or sites), at most one per node unless allowed. */
  z.strictObject({ kind: z.literal('horizontal'), replicas: z.number().int().min(1).max(100), spreadBy: z.enum(['node', 'site']).default('node'), allowSameNode: z.boolean().default(false) }),
  /** N replicas on the cheapest eligible nodes by a numeric label. */
  z.strictObject({ kind: z.literal('cost'), replicas: z.number().int().min(1).max(100).default(1), label: z.string().min(1).default('cost') }),
  /** N replicas only on nodes whose jurisdiction label is allowed. */
  z.strictObject({ kind: z.literal('geo'), replicas: z.number().int().min(1).max(100).default(1), allowed: z.array(z.string().min(1)).min(1), label: z.string().min(1).default('jurisdiction') }),
]);

/** A workload as submitted (`capstan mesh apply -f w.yaml`, POST /api/v1/mesh/workloads). */
export const workloadSpecSchema = z.strictObject({
  name: workloadNameSchema,
  run: z.discriminatedUnion('kind', [processSchema, webhookSchema]),
  topology: topologySchema,
  consistency: z.enum(['absolute-consistency', 'split-brain-allowed']).default('absolute-consistency'),
  /** Only nodes carrying all these labels are eligible. */
  selector: z.record(z.string(), z.string()).default({}),
});

/** A checked workload spec. */
export type WorkloadSpec = z.output<typeof workloadSpecSchema>;
/** Health check of a workload. */
export type HealthSpec = z.output<typeof healthSchema>;
/** Placement topology. */
export type Topology = z.output<typeof topologySchema>;

/** The stored workload: its spec plus operator intent. */
export interface WorkloadRecord {
  spec: WorkloadSpec;
  desired: 'running' | 'stopped';
  /** Set by `move`: the node that should hold replica 0 next. */
  moveTo?: string;
  updatedAt: string;
}

/** Slots of a workload: one per replica. */
export function replicaCount(t: Topology): number {
  return t.kind === 'failover' ? 1 : t.replicas;
}
