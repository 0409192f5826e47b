/**
 * Placement: a pure function from a workload, the node view and the current holders to, per slot, the nodes in
 * the order they should take it. All slots are placed or none: an unsatisfiable placement is an error string.
 */
import type { NodeView } from '../model/node.ts';
import { replicaCount, type WorkloadRecord } from '../model/workload.ts';

/** Per slot, the ordered candidates (the first alive one should hold it). */
export type Placement = { slots: { slot: number; candidates: string[] }[] } | { error: string };

/** Inputs besides the workload. */
export interface PlacementInput {
  nodes: NodeView[];
  /** Current holder node per slot of this workload. */
  holders: Map<number, string>;
  /** Slots other workloads already put first on each node. */
  load: Map<string, number>;
}

function byId(a: NodeView, b: NodeView): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Nodes that may only keep the slots they hold and get nothing new: cordoned ones, and suspect ones (a few missed
 * beats). A suspect holder keeps its slot because moving it gains nothing: a taker waits for the lease to run out
 * either way, while a loaded box whose beats merely ran late would otherwise see its work moved away and back.
 */
function keepOnly(n: NodeView): boolean {
  return n.cordoned || n.state === 'suspect';
}

/** Nodes that may run this workload: alive (or suspect holders), not draining, matching the selector. */
function eligible(w: WorkloadRecord, input: PlacementInput): NodeView[] {
  const holding = new Set(input.holders.values());
  return input.nodes.filter((n) => {
    if (n.draining || (n.state !== 'alive' && n.state !== 'suspect')) return false;
    if (keepOnly(n) && !holding.has(n.id)) return false;
    return Object.entries(w.spec.selector).every(([k, v]) => n.labels[k] === v);
  });
}

function hasRoom(n: NodeView, input: PlacementInput, extra: number): boolean {
  return (input.load.get(n.id) ?? 0) + extra < n.capacity;
}

/** Computes the placement of one workload. */
export function place(w: WorkloadRecord, input: PlacementInput): Placement {
  const t = w.spec.topology;
  let pool = eligible(w, input).sort(byId);
  if (t.kind === 'failover') {
    // Primary site first, standbys in site order; the current holder stays first (no failback), unless moved.
    pool = pool.filter((n) => t.sites.includes(n.site)).sort((a, b) => t.sites.indexOf(a.site) - t.sites.indexOf(b.site) || byId(a, b));
    const holder = input.holders.get(0);
    if (w.moveTo) {
      const target = pool.find((n) => n.id === w.moveTo);
      if (!target) return { error: `cannot move to '${w.moveTo}': not an eligible alive node` };
      pool = [target, ...pool.filter((n) => n !== target && n.id !== holder)];
    } else if (holder) {
      const h = pool.find((n) => n.id === holder);
      if (h) pool = [h, ...pool.filter((n) => n !== h)];
    }
    const primary = pool.findIndex((n) => n.id === holder || hasRoom(n, input, 0));
    if (primary < 0) return { error: `no eligible node with free capacity on sites ${t.sites.join(', ')}` };
    return { slots: [{ slot: 0, candidates: [pool[primary]!.id, ...pool.filter((_, i) => i !== primary).map((n) => n.id)] }] };
  }
  if (t.kind === 'cost') {
    pool = pool.filter((n) => Number.isFinite(Number(n.labels[t.label]))).sort((a, b) => Number(a.labels[t.label]) - Number(b.labels[t.label]) || byId(a, b));
  } else if (t.kind === 'geo') {
    pool = pool.filter((n) => t.allowed.includes(n.labels[t.label] ?? ''));
  }
  const replicas = replicaCount(t);
  const sameNode = t.kind === 'horizontal' && t.allowSameNode;
  const bySite = t.kind === 'horizontal' && t.spreadBy === 'site';
  const owners: NodeView[] = [];
  const used = new Map<string, number>();
  const take = (n: NodeView) => {
    owners.push(n);
    used.set(n.id, (used.get(n.id) ?? 0) + 1);
  };
  const fits = (n: NodeView) => (sameNode || !used.has(n.id)) && hasRoom(n, input, used.get(n.id) ?? 0);
  const fresh = pool.filter((n) => !keepOnly(n));
  const owner: (NodeView | undefined)[] = [];
  // Holders keep their slots when still eligible (no churn); a moved workload gives its slot 0 to the target.
  // Cost converges: a holder keeps its slot only while it is among the cheapest nodes with room (a brief graceful
  // hand-over is the price of not staying on an expensive node that happened to be seen first).
  const cheapest = t.kind === 'cost' ? new Set(pool.filter((n) => hasRoom(n, input, 0)).slice(0, replicas).map((n) => n.id)) : undefined;
  for (let s = 0; s < replicas; s++) {
    const h = pool.find((n) => n.id === input.holders.get(s) && (!cheapest || cheapest.has(n.id)));
    if (w.moveTo && s === 0) continue;
    if (h && fits(h)) {
      owner[s] = h;
      take(h);
    }
  }
  if (w.moveTo && replicas > 0) {
    const target = pool.find((n) => n.id === w.moveTo);
    if (!target || !fits(target)) return { error: `cannot move to '${w.moveTo}': not an eligible node with room` };
    owner[0] = target;
    take(target);
  }
  for (let s = 0; s < replicas; s++) {
    if (owner[s]) continue;
    const sites = new Set(owners.map((n) => n.site));
    const pick = (bySite ? fresh.find((n) => fits(n) && !sites.has(n.site)) : undefined) ?? fresh.find(fits);
    if (!pick) return { error: `only ${owners.length} of ${replicas} replicas can be placed on ${pool.length} eligible node(s)` };
    owner[s] = pick;
    take(pick);
  }
  const spares = fresh.filter((n) => !used.has(n.id)).map((n) => n.id);
  return { slots: owner.map((n, slot) => ({ slot, candidates: [n!.id, ...spares] })) };
}
