/** The workflow module's service: definitions (saved, compiled, shared across instances) in front of the engine and the store. */
import { BODY, Conflict, decodeCursor, Invalid, namedUnder, NotFound, zodIssues, type EventBus, type Logger, type Subscription } from '../../kernel/index.ts';
import * as z from 'zod';
import { specFromDefinition, type DeclarativeDeps } from './declarative/spec.ts';
import { DefinitionApplied, ignoreMalformed } from './model/events.ts';
import { compileDefinition, parseDefinition, toMermaid, type ParsedDefinition } from './definition/index.ts';
import type { WorkflowEngine } from './runtime/engine.ts';
import { requestHash, type TriggerOutcome } from './runtime/trigger-once.ts';
import type { RunRecord } from './model/run.ts';
import { ACTIVE_RUN_STATES } from './model/run-state.ts';
import type { ListRunsQuery, RecordStore } from './store/index.ts';

/** The object a DAG run holds at a stage: what a trigger with `start` must bring, since it is not wrapped then. */
const DagRunObjectShape = z.looseObject({
  input: z.unknown().optional(),
  steps: z.record(z.string(), z.looseObject({ status: z.enum(['completed', 'skipped', 'failed']) })),
});

/** Event telling every instance to reload a definition. */

/** Everything the routes, the CLI and actions need. */
export class WorkflowService {
  private sub?: Subscription;

  constructor(
    private readonly engine: WorkflowEngine,
    private readonly store: RecordStore,
    private readonly bus: EventBus,
    private readonly deps: DeclarativeDeps,
    private readonly log: Logger,
  ) {}

  /** Loads every saved definition into the engine and follows definitions applied elsewhere. */
  async load(): Promise<void> {
    for (const d of await this.store.listDefinitions()) await this.install(d.name, d.spec).catch((err) => this.log.error({ err, workflow: d.name }, 'cannot load saved definition'));
    this.sub = await this.bus.subscribe(
      DefinitionApplied.subject(),
      DefinitionApplied.handler(async (e) => {
        const { name } = e.data;
        const d = await this.store.getDefinition(name);
        if (d) await this.install(d.name, d.spec).catch((err) => this.log.error({ err, workflow: name }, 'cannot load applied definition'));
      }, ignoreMalformed(this.log)),
    );
  }

  /** Stops following definitions. */
  async close(): Promise<void> {
    await this.sub?.unsubscribe();
  }

  private async install(name: string, spec: unknown): Promise<ParsedDefinition> {
    const parsed = compileDefinition(spec);
    await this.engine.register(specFromDefinition(parsed, { log: this.log, ...this.deps }));
    return parsed;
  }

  /** Validates, saves and installs a definition (the request body; Invalid names `body.<field>`); other instances reload it from the applied event. */
  async applyDefinition(text: string, type: 'yaml' | 'json', opts: { force?: boolean } = {}) {
    const { parsed, spec } = await namedUnder(BODY, async () => {
      const parsed = parseDefinition(text, type);
      this.refuseDisabledCommands(parsed);
      this.refuseUnknownActions(parsed);
      if (!opts.force) await this.refuseStranding(parsed);
      // Built before the save, so a definition that cannot become a spec is not saved half-way.
      const spec = specFromDefinition(parsed, { log: this.log, ...this.deps });
      this.engine.assertNamesFree(spec);
      return { parsed, spec };
    });
    const saved = await this.store.saveDefinition(parsed.graph.name, parsed.kind, parsed.definition);
    await this.engine.register(spec);
    await DefinitionApplied.publish(this.bus, { name: saved.name, version: saved.version });
    return { name: saved.name, kind: saved.kind, version: saved.version, mermaid: toMermaid(parsed.graph) };
  }

  /** A command step on a server that does not run them would fail every run that reaches it: refuse it on submit. */
  private refuseDisabledCommands(parsed: ParsedDefinition): void {
    if (this.deps.commandsEnabled || parsed.kind !== 'state-machine') return;
    const issues = Object.entries(parsed.definition.states)
      .filter(([, state]) => state.command !== undefined)
      .map(([name]) => ({ path: `states.${name}.command`, message: 'command steps are off on this server (modules.workflow.commandSteps: false)' }));
    if (issues.length > 0) throw new Invalid('invalid workflow definition: command steps are disabled', issues);
  }

  /**
   * An action no module registered would fail every run that reaches it: refuse it on submit. (Only here, not when
   * saved definitions are loaded at boot, where another module may not have registered its actions yet.)
   */
  private refuseUnknownActions(parsed: ParsedDefinition): void {
    const known = new Set(this.deps.actions.list().map((a) => a.name));
    const used: { path: string; name: string }[] = [];
    const g = parsed.graph;
    for (const [status, state] of Object.entries(g.states)) if (state.work?.kind === 'action') used.push({ path: `states.${status}.action`, name: state.work.action.name });
    for (const step of Object.values(g.dag?.steps ?? {})) if (step.call.kind === 'action') used.push({ path: `steps.${step.index}.action`, name: step.call.name });
    if (g.onComplete?.kind === 'action') used.push({ path: 'onComplete.action', name: g.onComplete.action.name });
    const issues = used.filter((u) => !known.has(u.name)).map((u) => ({ path: u.path, message: `no action '${u.name}' is registered (known: ${[...known].sort().join(', ') || 'none'})` }));
    if (issues.length > 0) throw new Invalid('invalid workflow definition: unknown actions', issues);
  }

  /**
   * A new version without a status where active runs wait would strand them (no step, callback or timeout for it):
   * a Conflict naming the statuses and counts, unless the caller forces it.
   */
  private async refuseStranding(parsed: ParsedDefinition): Promise<void> {
    const name = parsed.graph.name;
    if (!this.engine.names().includes(name)) return;
    const kept = new Set(Object.keys(parsed.graph.states));
    const stranded = Object.entries(await this.store.activeRunsByStatus(name)).filter(([status, n]) => n > 0 && !kept.has(status));
    if (stranded.length === 0) return;
    const list = stranded.map(([status, n]) => `${status} (${n})`).join(', ');
    throw new Conflict(`re-applying '${name}' would strand active runs at statuses it no longer has: ${list}; finish or cancel them first, or apply with force (?force=true, capstan workflow apply --force)`, {
      stranded: Object.fromEntries(stranded),
    });
  }

  /** One definition with its Mermaid graph. */
  async getDefinition(name: string) {
    const d = await this.store.getDefinition(name);
    if (!d) throw new NotFound(`workflow definition '${name}'`);
    return { ...d, mermaid: toMermaid(compileDefinition(d.spec).graph) };
  }

  /** All definitions, without their specs. */
  async listDefinitions() {
    return (await this.store.listDefinitions()).map(({ name, kind, version, createdAt, updatedAt }) => ({ name, kind, version, createdAt, updatedAt }));
  }

  /** Starts a run. */
  trigger(workflow: string, foreignId: string, object?: unknown, start?: string): Promise<RunRecord> {
    this.checkStart(workflow, object, start);
    return namedUnder(BODY, () => this.engine.trigger(workflow, foreignId, object ?? {}, start));
  }

  /**
   * Starts a run under an Idempotency-Key: a repeat with the same key and body answers the first run (replayed), the
   * same key with another body is a 422 naming the header.
   */
  triggerWithKey(workflow: string, body: { foreignId: string; object?: unknown; start?: string }, key: string): Promise<TriggerOutcome> {
    this.checkStart(workflow, body.object, body.start);
    const hash = requestHash(body);
    return namedUnder(BODY, () => this.engine.triggerWithKey(workflow, body.foreignId, body.object ?? {}, body.start, key, hash));
  }

  private checkStart(workflow: string, object: unknown, start: string | undefined): void {
    // A DAG wraps its trigger's object as {input, steps} unless the run starts at a given stage: then the caller
    // brings that object, and one without `steps` would break every step of the run.
    if (start !== undefined && this.engine.get(workflow).spec.prepareObject) {
      const shaped = DagRunObjectShape.safeParse(object ?? {});
      if (!shaped.success) throw new Invalid('a DAG run started at a stage needs its run object {input, steps}', zodIssues(shaped.error, 'body.object'));
    }
  }

  /** A page of runs. */
  listRuns(q: ListRunsQuery) {
    if (q.cursor !== undefined) this.checkCursor(q.cursor, q.order ?? 'desc');
    return this.store.list(q);
  }

  /** A cursor is opaque, but a forged one must get a 400 naming it, not reach the database as a bad date or text. */
  private checkCursor(cursor: string, order: 'asc' | 'desc'): void {
    decodeCursor(cursor, order, 'query.cursor');
  }

  /** One run or NotFound. */
  async getRun(runId: string): Promise<RunRecord> {
    const r = await this.store.lookup(runId);
    if (!r) throw new NotFound(`run '${runId}'`);
    return r;
  }

  /** Every transition of a run, oldest first. */
  async history(runId: string) {
    await this.getRun(runId);
    return this.store.history(runId);
  }

  /** Waits for a run to have been at `status`. */
  async await(runId: string, status: string, timeoutMs: number) {
    // A status the workflow does not have can never be reached: say so now rather than after the whole timeout.
    const run = await this.getRun(runId);
    const { statuses } = this.engine.get(run.workflow).spec;
    if (!statuses.has(status)) throw new Invalid(`workflow '${run.workflow}' has no status '${status}'`, [{ path: 'query.status', message: `one of ${[...statuses].join(', ')}` }]);
    // A finished run (no longer active) moves no more: if its history lacks the status, waiting could only time out.
    if (!ACTIVE_RUN_STATES.includes(run.runState)) {
      const passed = await this.engine.await(runId, status, 0);
      if (passed) return passed;
      throw new Conflict(`run ${runId} is ${run.runState} at '${run.status}' and was never at '${status}'`, { runState: run.runState, currentStatus: run.status });
    }
    return this.engine.await(runId, status, timeoutMs);
  }

  /** Pause, resume, cancel or delete data. */
  control(runId: string, action: 'pause' | 'resume' | 'cancel' | 'delete', reason?: string): Promise<RunRecord> {
    if (action === 'pause') return this.engine.pause(runId, reason);
    if (action === 'resume') return this.engine.resume(runId);
    if (action === 'cancel') return this.engine.cancel(runId, reason);
    return this.engine.deleteData(runId);
  }

  /** A webhook delivery to a connector. */
  webhook(workflow: string, connector: string, body: unknown) {
    return this.engine.webhook(workflow, connector, body);
  }

  /** An external callback for a run waiting at `status`. */
  callback(runId: string, status: string, body: { status?: string; object?: unknown }) {
    return namedUnder(BODY, () => this.engine.callback(runId, status, body));
  }
}

