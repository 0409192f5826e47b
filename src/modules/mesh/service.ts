/** Operator actions on the mesh over its KV buckets: what the API and the CLI do. */
import { Conflict, Invalid, NotFound, storableIssues, zodIssues, type EventBus, type KvStore, type Logger } from '../../kernel/index.ts';
import * as ev from './model/events.ts';
import type { NodeBeat, NodeControl, NodeState } from './model/node.ts';
import { DEFAULT_TIMING, type Timing } from './model/timing.ts';
import { nodeIdSchema, replicaCount, workloadNameSchema, workloadSpecSchema, type WorkloadRecord } from './model/workload.ts';
import { fenceLease, type LeaseRecord } from './runtime/lease.ts';
import { place } from './runtime/placement.ts';
import { openBuckets, readAll, slotLeaseKey, type Assignment, type MeshBuckets, type SlotStatus } from './store/buckets.ts';

/** A node as the API shows it (aged by its writer's wall clock: one read cannot age by revision). */
export interface NodeRow extends NodeBeat {
  state: NodeState;
  lastSeenMsAgo: number;
  cordoned: boolean;
  draining: boolean;
}

/** Said in the apply answer and the log of an embedded server: its mesh state is in this process's memory only. */
export const EMBEDDED_WARNING =
  'embedded mode: mesh workloads are kept in this server\'s memory only: no `capstan agent` can see them (agents share state through NATS, start the server with NATS_URL) and they are lost when the server restarts';

/** A path parameter that cannot name anything (a NUL, a dot that would split a KV key): 400 naming it, never a KV error. */
function checkParam(schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } } }, value: string, path: string): void {
  const r = schema.safeParse(value);
  if (!r.success) throw new Invalid(`${path}: ${r.error!.issues[0]!.message}`, [{ path, message: r.error!.issues[0]!.message }]);
}

/** The mesh service of a server instance. */
export class MeshService {
  private buckets?: Promise<MeshBuckets>;

  constructor(
    private readonly kv: KvStore,
    private readonly bus: EventBus,
    private readonly timing: Timing = DEFAULT_TIMING,
    private readonly opts: { embedded?: boolean; log?: Logger } = {},
  ) {}

  /** True on an embedded server: the mesh state is this process's memory only (see EMBEDDED_WARNING). */
  get embedded(): boolean {
    return this.opts.embedded ?? false;
  }

  private b(): Promise<MeshBuckets> {
    this.buckets ??= openBuckets(this.kv).catch((err) => {
      this.buckets = undefined;
      throw err;
    });
    return this.buckets;
  }

  /** Every node with its state. */
  async nodes(): Promise<NodeRow[]> {
    const { beats, control } = await readAll(await this.b());
    const now = Date.now();
    return beats.map((n) => {
      const age = Math.max(0, now - n.at);
      const state: NodeState = age > this.timing.leaseMs ? 'dead' : age > 3 * n.heartbeatMs ? 'suspect' : 'alive';
      const c = control.get(n.id);
      return { ...n, state, lastSeenMsAgo: age, cordoned: c?.cordoned ?? false, draining: c?.draining ?? false };
    });
  }

  /** Cordon (no new work), uncordon, or drain (no work at all: its replicas move away). */
  async setNode(id: string, action: 'cordon' | 'uncordon' | 'drain'): Promise<NodeControl> {
    checkParam(nodeIdSchema, id, 'path.id');
    const b = await this.b();
    if (!(await b.nodes.get(id))) throw new NotFound(`node '${id}'`);
    const control: NodeControl = action === 'uncordon' ? { cordoned: false, draining: false } : { cordoned: true, draining: action === 'drain' };
    await b.control.put(`node.${id}`, control);
    return control;
  }

  /** Saves (creates or replaces) a workload; reports whether it can be placed on the nodes alive now. */
  async apply(input: unknown): Promise<{ workload: WorkloadRecord; created: boolean; placement: { satisfiable: boolean; error?: string }; warnings?: string[] }> {
    // A NUL or a lone surrogate in argv, env, a label or a URL would reach exec(), an environment block or a KV
    // record mangled (or fail there): refused here with the field's path, as every other module's edge does.
    const unstorable = storableIssues(input);
    if (unstorable.length > 0) throw new Invalid('invalid workload', unstorable.map((i) => ({ path: ['body', ...i.path].join('.'), message: i.message })));
    const parsed = workloadSpecSchema.safeParse(input);
    if (!parsed.success) throw new Invalid('invalid workload', zodIssues(parsed.error, 'body'));
    const b = await this.b();
    const prev = await b.workloads.get<WorkloadRecord>(parsed.data.name);
    const record: WorkloadRecord = { spec: parsed.data, desired: prev?.value.desired ?? 'running', updatedAt: new Date().toISOString() };
    await b.workloads.put(record.spec.name, record);
    if (this.opts.embedded) this.opts.log?.warn({ workload: record.spec.name }, EMBEDDED_WARNING);
    return { workload: record, created: !prev, placement: await this.dryRun(record), ...(this.opts.embedded ? { warnings: [EMBEDDED_WARNING] } : {}) };
  }

  /** The placement the leader would compute now (the leader's own pass is what takes effect). */
  private async dryRun(w: WorkloadRecord): Promise<{ satisfiable: boolean; error?: string }> {
    const nodes = (await this.nodes()).map((n) => ({ ...n }));
    const p = place(w, { nodes, holders: new Map(), load: new Map() });
    return 'error' in p ? { satisfiable: false, error: p.error } : { satisfiable: true };
  }

  /** Workloads with their assignment and per-slot status. */
  async list(): Promise<{ workload: WorkloadRecord; assignment?: Assignment; slots: SlotStatus[] }[]> {
    const b = await this.b();
    const [workloads, assigned, statuses] = await Promise.all([b.workloads.list<WorkloadRecord>(), b.assign.list<Assignment>(), b.status.list<SlotStatus>()]);
    const a = new Map(assigned.map((e) => [e.key, e.value]));
    return workloads.map(({ value: w }) => ({ workload: w, assignment: a.get(w.spec.name), slots: statuses.map((s) => s.value).filter((s) => s.workload === w.spec.name && s.slot < replicaCount(w.spec.topology)) }));
  }

  /** One workload. */
  async get(name: string) {
    checkParam(workloadNameSchema, name, 'path.name');
    const found = (await this.list()).find((w) => w.workload.spec.name === name);
    if (!found) throw new NotFound(`workload '${name}'`);
    return found;
  }

  /** Deletes a workload; its holders stop their replicas and release the slots. */
  async remove(name: string): Promise<void> {
    checkParam(workloadNameSchema, name, 'path.name');
    const b = await this.b();
    if (!(await b.workloads.get(name))) throw new NotFound(`workload '${name}'`);
    await b.workloads.delete(name);
  }

  private async update(name: string, fn: (w: WorkloadRecord) => WorkloadRecord): Promise<WorkloadRecord> {
    checkParam(workloadNameSchema, name, 'path.name');
    const b = await this.b();
    for (let i = 0; i < 5; i++) {
      const e = await b.workloads.get<WorkloadRecord>(name);
      if (!e) throw new NotFound(`workload '${name}'`);
      const next = { ...fn(e.value), updatedAt: new Date().toISOString() };
      try {
        await b.workloads.update(name, next, e.revision);
        return next;
      } catch (err) {
        if (!(err instanceof Conflict)) throw err;
      }
    }
    throw new Conflict(`workload '${name}' kept changing; try again`);
  }

  /** Desired state running or stopped. */
  setDesired(name: string, desired: 'running' | 'stopped'): Promise<WorkloadRecord> {
    return this.update(name, (w) => ({ ...w, desired }));
  }

  /** Moves replica 0 to a node (the holder stops and releases; the target takes it at once). */
  async move(name: string, to: string): Promise<WorkloadRecord> {
    const node = (await this.nodes()).find((n) => n.id === to);
    if (!node) throw new Invalid(`node '${to}' is not in the mesh`, [{ path: 'body.to', message: 'unknown node' }]);
    if (node.state !== 'alive' || node.cordoned) throw new Invalid(`node '${to}' is ${node.cordoned ? 'cordoned' : node.state}`, [{ path: 'body.to', message: 'must be alive and not cordoned' }]);
    const from = (await this.get(name)).slots.find((s) => s.slot === 0)?.node;
    const w = await this.update(name, (w) => ({ ...w, moveTo: to }));
    await ev.workloadMoved.publish(this.bus, { workload: name, from, to }).catch(() => {});
    return w;
  }

  /** Fences every slot: a CAS write with no holder; tokens go up, holders stop, takers wait one lease. */
  async fence(name: string): Promise<{ slot: number; revision?: number }[]> {
    const { workload, slots } = await this.get(name);
    const b = await this.b();
    const out = [];
    for (let s = 0; s < replicaCount(workload.spec.topology); s++) {
      const revision = await fenceLease(b.leases, slotLeaseKey(name, s), 'operator');
      const holder = slots.find((x) => x.slot === s);
      if (revision !== undefined && holder) await ev.workloadFenced.publish(this.bus, { workload: name, slot: s, node: holder.node, token: holder.token, reason: 'fenced by an operator' }).catch(() => {});
      out.push({ slot: s, revision });
    }
    return out;
  }

  /** Every lease record with its age by the writer's wall clock. */
  async leases(): Promise<{ lease: string; holder: string | null; token: number; revision: number; fenced: boolean; ageMs: number }[]> {
    const b = await this.b();
    const now = Date.now();
    return (await b.leases.list<LeaseRecord>()).map((e) => ({ lease: e.key, holder: e.value.holder, token: e.value.token || e.revision, revision: e.revision, fenced: e.value.fenced ?? false, ageMs: Math.max(0, now - Date.parse(e.value.renewedAt)) }));
  }
}
