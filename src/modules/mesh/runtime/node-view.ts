/**
 * The membership view: every agent mirrors `mesh_nodes` by a watch and, each heartbeat period, ages each node by how long its
 * record has stayed at one revision on this agent's monotonic clock (never by comparing wall clocks).
 */
import { monotonicMs } from '../../../kernel/index.ts';
import type { NodeBeat, NodeControl, NodeState, NodeView as NodeInfo } from '../model/node.ts';
import type { Timing } from '../model/timing.ts';
import type { BucketMirror } from '../store/mirror.ts';

interface Seen {
  beat: NodeBeat;
  revision: number;
  seenAt: number;
  state: NodeState;
}

/** A node's state changed (joined is a first sighting as alive). */
export type NodeTransition = { node: string; site: string; to: NodeState | 'joined' };

/** Ages node records into alive / suspect / dead / left. */
export class NodeView {
  private readonly seen = new Map<string, Seen>();
  private control = new Map<string, NodeControl>();
  private firstRefreshAt?: number;

  constructor(private readonly nodes: BucketMirror<NodeBeat>, private readonly controlKv: BucketMirror<NodeControl>, private readonly timing: Timing) {}

  /** State for an age: suspect after three missed beats, dead after a lease. */
  private stateFor(ageMs: number): NodeState {
    if (ageMs > this.timing.leaseMs) return 'dead';
    if (ageMs > 3 * this.timing.heartbeatMs) return 'suspect';
    return 'alive';
  }

  /** Ages the mirrored records (no reads); returns the transitions since the last refresh. */
  refresh(): NodeTransition[] {
    const [entries, control] = [this.nodes.list(), this.controlKv.list()];
    this.control = new Map(control.map((e) => [e.key.slice('node.'.length), e.value]));
    const now = monotonicMs();
    this.firstRefreshAt ??= now;
    const out: NodeTransition[] = [];
    const present = new Set<string>();
    for (const e of entries) {
      present.add(e.key);
      const known = this.seen.get(e.key);
      if (!known) {
        // First sight: age it by its writer's clock, bounded so that skew can neither revive nor kill it early.
        const age = Math.min(Math.max(0, Date.now() - e.value.at), this.timing.leaseMs + 1);
        const s: Seen = { beat: e.value, revision: e.revision, seenAt: now - age, state: this.stateFor(age) };
        this.seen.set(e.key, s);
        if (s.state === 'alive') out.push({ node: e.key, site: e.value.site, to: 'joined' });
        continue;
      }
      if (known.revision !== e.revision) {
        const rejoined = known.beat.session !== e.value.session || known.state === 'dead' || known.state === 'left';
        known.beat = e.value;
        known.revision = e.revision;
        known.seenAt = now;
        if (rejoined) out.push({ node: e.key, site: e.value.site, to: 'joined' });
      }
      const state = this.stateFor(now - known.seenAt);
      if (state !== known.state) {
        if (!(state === 'alive' && out.some((t) => t.node === e.key))) out.push({ node: e.key, site: known.beat.site, to: state });
        known.state = state;
      }
    }
    for (const [id, s] of this.seen) {
      if (!present.has(id) && s.state !== 'left') {
        s.state = 'left';
        out.push({ node: id, site: s.beat.site, to: 'left' });
      }
    }
    return out;
  }

  /** Every known node with its state and operator flags, sorted by id. */
  list(): NodeInfo[] {
    const now = monotonicMs();
    return [...this.seen.values()]
      .map((s) => {
        const c = this.control.get(s.beat.id);
        return { ...s.beat, state: s.state, lastSeenMsAgo: Math.round(now - s.seenAt), cordoned: c?.cordoned ?? false, draining: c?.draining ?? false };
      })
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * True once this view has read the buckets for two heartbeat periods: every live node has then written a beat
   * it saw, so a new leader does not place work on the few nodes it happened to see first.
   */
  warm(): boolean {
    return this.firstRefreshAt !== undefined && monotonicMs() - this.firstRefreshAt >= 2 * this.timing.heartbeatMs;
  }

  /** State of one node (undefined: never seen). */
  state(id: string): NodeState | undefined {
    return this.seen.get(id)?.state;
  }

  /** Operator flags of one node. */
  controlOf(id: string): NodeControl {
    return this.control.get(id) ?? { cordoned: false, draining: false };
  }
}
