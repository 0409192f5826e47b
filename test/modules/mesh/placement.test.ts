/** Placement rules per topology, capacity, cordon/drain, move, and unsatisfiable placements; lease timing inequality. */
import { describe, expect, it } from 'vitest';
import type { NodeView } from '../../../src/modules/mesh/model/node.ts';
import { timingSchema } from '../../../src/modules/mesh/model/timing.ts';
import { workloadSpecSchema, type WorkloadRecord } from '../../../src/modules/mesh/model/workload.ts';
import { place } from '../../../src/modules/mesh/runtime/placement.ts';

function node(id: string, site: string, labels: Record<string, string> = {}, extra: Partial<NodeView> = {}): NodeView {
  return { id, site, labels, capacity: 4, session: 's', startedAt: '', at: 0, heartbeatMs: 500, state: 'alive', lastSeenMsAgo: 0, cordoned: false, draining: false, ...extra };
}
function wl(topology: unknown, extra: Partial<WorkloadRecord> = {}, selector: Record<string, string> = {}): WorkloadRecord {
  return { spec: workloadSpecSchema.parse({ name: 'w', run: { kind: 'process', argv: ['true'] }, topology, selector }), desired: 'running', updatedAt: '', ...extra };
}
const empty = { holders: new Map<number, string>(), load: new Map<string, number>() };
const nodes = [node('n1', 'a', { cost: '0.3', jurisdiction: 'de' }), node('n2', 'b', { cost: '0.1', jurisdiction: 'fr' }), node('n3', 'b', { cost: '0.2', jurisdiction: 'us' }), node('n4', 'c', { cost: '0.05' })];

describe('placement', () => {
  it('failover: primary site first, standbys in site order; the holder stays first (no failback)', () => {
    expect(place(wl({ kind: 'failover', sites: ['b', 'a'] }), { ...empty, nodes })).toEqual({ slots: [{ slot: 0, candidates: ['n2', 'n3', 'n1'] }] });
    expect(place(wl({ kind: 'failover', sites: ['b', 'a'] }), { ...empty, nodes, holders: new Map([[0, 'n1']]) })).toEqual({ slots: [{ slot: 0, candidates: ['n1', 'n2', 'n3'] }] });
  });

  it('failover: dead, draining and (for new work) cordoned nodes are skipped; move puts the target first and drops the holder', () => {
    const view = [node('n1', 'a', {}, { state: 'dead' }), node('n2', 'a', {}, { draining: true, cordoned: true }), node('n3', 'a', {}, { cordoned: true }), node('n4', 'b')];
    expect(place(wl({ kind: 'failover', sites: ['a', 'b'] }), { ...empty, nodes: view })).toEqual({ slots: [{ slot: 0, candidates: ['n4'] }] });
    expect(place(wl({ kind: 'failover', sites: ['a', 'b'] }), { ...empty, nodes: view, holders: new Map([[0, 'n3']]) })).toEqual({ slots: [{ slot: 0, candidates: ['n3', 'n4'] }] });
    expect(place(wl({ kind: 'failover', sites: ['a', 'b', 'c'] }, { moveTo: 'n3' }), { ...empty, nodes, holders: new Map([[0, 'n1']]) })).toEqual({ slots: [{ slot: 0, candidates: ['n3', 'n2', 'n4'] }] });
  });

  it('horizontal: one replica per node, spares after the owner; by site when asked; same node only when allowed', () => {
    expect(place(wl({ kind: 'horizontal', replicas: 2 }), { ...empty, nodes })).toEqual({ slots: [{ slot: 0, candidates: ['n1', 'n3', 'n4'] }, { slot: 1, candidates: ['n2', 'n3', 'n4'] }] });
    const bySite = place(wl({ kind: 'horizontal', replicas: 3, spreadBy: 'site' }), { ...empty, nodes });
    expect('slots' in bySite && bySite.slots.map((s) => s.candidates[0])).toEqual(['n1', 'n2', 'n4']);
    expect(place(wl({ kind: 'horizontal', replicas: 5 }), { ...empty, nodes })).toEqual({ error: 'only 4 of 5 replicas can be placed on 4 eligible node(s)' });
    const packed = place(wl({ kind: 'horizontal', replicas: 5, allowSameNode: true }), { ...empty, nodes: nodes.slice(0, 2) });
    expect('slots' in packed && packed.slots.map((s) => s.candidates[0])).toEqual(['n1', 'n1', 'n1', 'n1', 'n2']);
  });

  it('cost: cheapest first by the label; a holder that is no longer among the cheapest gives its slot up', () => {
    const r = place(wl({ kind: 'cost', replicas: 2 }), { ...empty, nodes });
    expect('slots' in r && r.slots.map((s) => s.candidates[0])).toEqual(['n4', 'n2']);
    const moved = place(wl({ kind: 'cost', replicas: 1 }), { ...empty, nodes, holders: new Map([[0, 'n1']]) });
    expect('slots' in moved && moved.slots[0]!.candidates[0]).toBe('n4');
  });

  it('geo: only allowed jurisdictions; selector labels narrow the pool', () => {
    const r = place(wl({ kind: 'geo', replicas: 2, allowed: ['de', 'fr'] }), { ...empty, nodes });
    expect('slots' in r && r.slots.map((s) => s.candidates[0])).toEqual(['n1', 'n2']);
    expect(place(wl({ kind: 'geo', replicas: 3, allowed: ['de', 'fr'] }), { ...empty, nodes })).toEqual({ error: 'only 2 of 3 replicas can be placed on 2 eligible node(s)' });
    const sel = place(wl({ kind: 'horizontal', replicas: 1 }, {}, { jurisdiction: 'us' }), { ...empty, nodes });
    expect('slots' in sel && sel.slots[0]!.candidates).toEqual(['n3']);
  });

  it('suspect nodes keep the slots they hold but get no new slot and are no spare', () => {
    const view = [node('n1', 'a', {}, { state: 'suspect' }), node('n2', 'a', {}, { state: 'suspect' }), node('n3', 'b'), node('n4', 'b')];
    // The suspect holder stays first; the suspect non-holder is not a standby.
    expect(place(wl({ kind: 'failover', sites: ['a', 'b'] }), { ...empty, nodes: view, holders: new Map([[0, 'n1']]) })).toEqual({ slots: [{ slot: 0, candidates: ['n1', 'n3', 'n4'] }] });
    // n1 keeps slot 0; slot 1 goes to an alive node even though the suspect n2 sorts first; n2 is no spare.
    expect(place(wl({ kind: 'horizontal', replicas: 2 }), { ...empty, nodes: view, holders: new Map([[0, 'n1']]) })).toEqual({ slots: [{ slot: 0, candidates: ['n1', 'n4'] }, { slot: 1, candidates: ['n3', 'n4'] }] });
    // Packing onto one node when allowed never adds slots to a suspect holder.
    const packed = place(wl({ kind: 'horizontal', replicas: 3, allowSameNode: true }), { ...empty, nodes: view.slice(0, 3), holders: new Map([[0, 'n1']]) });
    expect('slots' in packed && packed.slots.map((s) => s.candidates[0])).toEqual(['n1', 'n3', 'n3']);
    // Dead holders lose their slot.
    const dead = place(wl({ kind: 'horizontal', replicas: 1 }), { ...empty, nodes: [node('n1', 'a', {}, { state: 'dead' }), node('n3', 'b')], holders: new Map([[0, 'n1']]) });
    expect(dead).toEqual({ slots: [{ slot: 0, candidates: ['n3'] }] });
  });

  it('capacity: a full node gets no new primary', () => {
    const load = new Map([['n2', 4]]);
    expect(place(wl({ kind: 'failover', sites: ['b'] }), { nodes, holders: new Map(), load })).toEqual({ slots: [{ slot: 0, candidates: ['n3', 'n2'] }] });
    expect(place(wl({ kind: 'failover', sites: ['b'] }), { nodes, holders: new Map(), load: new Map([['n2', 4], ['n3', 4]]) })).toEqual({ error: 'no eligible node with free capacity on sites b' });
  });
});

describe('lease timing', () => {
  it('defaults are lease 5 s, renew 1 s, renew deadline 3 s', () => {
    expect(timingSchema.parse({})).toMatchObject({ leaseMs: 5000, renewMs: 1000, renewDeadlineMs: 3000 });
  });
  it('refuses a lease not longer than renew deadline + stop grace + clock margin, naming the field', () => {
    const r = timingSchema.safeParse({ leaseMs: 4000, renewDeadlineMs: 3000, stopGraceMs: 1000, clockMarginMs: 500 });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual(['leaseMs']);
    expect(timingSchema.safeParse({ renewMs: 3000 }).error!.issues.map((i) => i.path.join('.'))).toEqual(['renewMs']);
    expect(timingSchema.safeParse({ leaseMs: 2000, renewMs: 200, renewDeadlineMs: 1200, stopGraceMs: 400, clockMarginMs: 200 }).success).toBe(true);
  });
});
