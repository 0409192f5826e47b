/**
 * The leader's work: while this agent holds the `leader` lease, recompute every workload's placement from the
 * node view and write the assignments that changed. Placement is advice; slot leases keep replicas exclusive, so
 * a deposed leader that writes once more cannot cause two active replicas.
 */
import type { KvEntry } from '../../../kernel/index.ts';
import type { NodeView } from '../model/node.ts';
import { replicaCount, type WorkloadRecord } from '../model/workload.ts';
import type { Assignment, MeshBuckets } from '../store/buckets.ts';
import type { LeaseRecord } from './lease.ts';
import { place } from './placement.ts';

/** Current holder node per workload and slot, from the slot lease records. */
function holders(leases: KvEntry<LeaseRecord>[]): Map<string, Map<number, string>> {
  const out = new Map<string, Map<number, string>>();
  for (const e of leases) {
    if (!e.key.startsWith('slot.')) continue;
    const [, workload, slot] = e.key.split('.');
    if (!workload || !e.value.holder) continue;
    if (!out.has(workload)) out.set(workload, new Map());
    out.get(workload)!.set(Number(slot), e.value.holder);
  }
  return out;
}

/** What the leader places from: the agent's mirrors of these buckets (no reads per pass). */
export interface PlacementInput {
  workloads: KvEntry<WorkloadRecord>[];
  assigned: KvEntry<Assignment>[];
  leases: KvEntry<LeaseRecord>[];
}

/** One pass: returns the placement errors it recorded (by workload). */
export async function placeAll(b: MeshBuckets, input: PlacementInput, nodes: NodeView[], leaderToken: number): Promise<Map<string, string>> {
  const { workloads, assigned } = input;
  const held = holders(input.leases);
  const current = new Map(assigned.map((e) => [e.key, e]));
  const load = new Map<string, number>();
  const errors = new Map<string, string>();
  for (const { value: w } of workloads) {
    const prev = current.get(w.spec.name);
    // A move is done once its target holds slot 0; from then on the workload fails over as usual.
    if (w.moveTo && held.get(w.spec.name)?.get(0) === w.moveTo) {
      const e = await b.workloads.get<WorkloadRecord>(w.spec.name);
      if (e?.value.moveTo === w.moveTo) await b.workloads.update(w.spec.name, { ...e.value, moveTo: undefined }, e.revision).catch(() => {});
      w.moveTo = undefined;
    }
    current.delete(w.spec.name);
    let slots: Assignment['slots'] = [];
    let error: string | undefined;
    if (w.desired === 'running') {
      const p = place(w, { nodes, holders: held.get(w.spec.name) ?? new Map(), load });
      if ('error' in p) {
        error = p.error;
        errors.set(w.spec.name, p.error);
        // Not half-applied: the last satisfiable placement stays, minus nothing.
        slots = prev?.value.slots.filter((s) => s.slot < replicaCount(w.spec.topology)) ?? [];
      } else slots = p.slots;
    }
    for (const s of slots) if (s.candidates[0]) load.set(s.candidates[0], (load.get(s.candidates[0]) ?? 0) + 1);
    const next: Assignment = { workload: w.spec.name, leaderToken, slots, error, computedAt: prev?.value.computedAt ?? '' };
    const same = prev && JSON.stringify({ ...prev.value, leaderToken: 0, computedAt: '' }) === JSON.stringify({ ...next, leaderToken: 0, computedAt: '' });
    if (!same) await b.assign.put(w.spec.name, { ...next, computedAt: new Date().toISOString() });
  }
  // Assignments of deleted workloads go, so their holders stop.
  for (const key of current.keys()) await b.assign.delete(key).catch(() => {});
  return errors;
}
