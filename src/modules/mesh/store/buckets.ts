/**
 * The mesh's state lives in NATS KV buckets prefixed `mesh_` (memory KV in embedded mode); no SQL tables.
 * Keys: nodes `<node>`, workloads `<name>`, assignments `<name>`, leases `leader` and `slot.<name>.<i>`,
 * status `<name>.<i>`, control `node.<id>`.
 */
import type { Kv, KvStore } from '../../../kernel/index.ts';
import type { NodeBeat, NodeControl } from '../model/node.ts';
import type { WorkloadRecord } from '../model/workload.ts';

/** The leader's placement of one workload: per slot, the nodes in the order they should take it. */
export interface Assignment {
  workload: string;
  /** Fencing token of the leader that wrote it. */
  leaderToken: number;
  slots: { slot: number; candidates: string[] }[];
  /** Set when the placement cannot be satisfied; `slots` then keeps the last satisfiable placement. */
  error?: string;
  computedAt: string;
}

/** What a holder reports about its replica. */
export interface SlotStatus {
  workload: string;
  slot: number;
  node: string;
  token: number;
  state: 'starting' | 'healthy' | 'unhealthy' | 'stopped' | 'failed';
  pid?: number;
  restarts: number;
  at: string;
  healthyAt?: string;
}

/** Open buckets of the mesh. */
export interface MeshBuckets {
  nodes: Kv;
  workloads: Kv;
  assign: Kv;
  leases: Kv;
  status: Kv;
  control: Kv;
}

/** Opens (creating) every mesh bucket; none has a TTL: dead nodes stay visible as dead, leases expire by the rules. */
export async function openBuckets(kv: KvStore): Promise<MeshBuckets> {
  const [nodes, workloads, assign, leases, status, control] = await Promise.all(['nodes', 'workloads', 'assign', 'leases', 'status', 'control'].map((n) => kv.bucket(`mesh_${n}`)));
  return { nodes: nodes!, workloads: workloads!, assign: assign!, leases: leases!, status: status!, control: control! };
}

/** Lease key of one slot. */
export function slotLeaseKey(workload: string, slot: number): string {
  return `slot.${workload}.${slot}`;
}

/** Status key of one slot. */
export function slotStatusKey(workload: string, slot: number): string {
  return `${workload}.${slot}`;
}

/** Reads every node beat, workload, assignment and control record at once (for the leader and the API). */
export async function readAll(b: MeshBuckets): Promise<{ beats: NodeBeat[]; workloads: WorkloadRecord[]; assignments: Map<string, Assignment>; control: Map<string, NodeControl> }> {
  const [beats, workloads, assignments, control] = await Promise.all([b.nodes.list<NodeBeat>(), b.workloads.list<WorkloadRecord>(), b.assign.list<Assignment>(), b.control.list<NodeControl>('node.')]);
  return {
    beats: beats.map((e) => e.value),
    workloads: workloads.map((e) => e.value),
    assignments: new Map(assignments.map((e) => [e.key, e.value])),
    control: new Map(control.map((e) => [e.key.slice('node.'.length), e.value])),
  };
}
