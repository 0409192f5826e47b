/** The cascades service: what the API, the CLI and the `cascades.run` action do, over the store and the queue; its events go through the kernel outbox. */
import { Conflict, Invalid, newId, NotFound, type JobQueue } from '../../kernel/index.ts';
import type { CascadeDefinition } from './model/definition.ts';
import { checkDefinition, checkInputs } from './model/parse-definition.ts';
import { TERMINAL, type HumanCheckpoint, type Session } from './model/session.ts';
import { recordingFromLogs, type Recording } from './model/snapshot.ts';
import type { ChildRunner } from './runtime/children.ts';
import type { CascadeMetrics } from './runtime/metrics.ts';
import { enqueueSession } from './runtime/queue.ts';
import type { CascadeStore } from './store/index.ts';

/** Stateless: every instance can serve every call; the database is the only authority. */
export class CascadeService {
  constructor(
    readonly store: CascadeStore,
    private readonly queue: JobQueue,
    private readonly metrics: CascadeMetrics,
    private readonly children?: ChildRunner,
  ) {}

  /** Saves a checked definition; returns its version. */
  async define(def: CascadeDefinition): Promise<number> {
    return this.store.putDefinition(def);
  }

  /**
   * Starts a session of a saved cascade (or of an inline definition): row and event first, then the job. A trigger
   * passes the session `id` it derived from its slot or event, so a second start of the same firing is refused by the key.
   */
  async run(cascade: string | CascadeDefinition, inputs: Record<string, unknown>, id: string = newId()): Promise<Session> {
    let spec: CascadeDefinition;
    if (typeof cascade === 'string') {
      const stored = await this.store.getDefinition(cascade);
      if (!stored) throw new NotFound(`cascade '${cascade}'`);
      spec = checkDefinition(stored.spec);
    } else spec = cascade;
    const checked = checkInputs(spec, inputs);
    // The row and its `started` event commit together; should the enqueue fail, the sweeper queues sessions left in 'starting'.
    const session = await this.store.createSession(id, spec, checked);
    await enqueueSession(this.queue, session.id, 'start');
    return session;
  }

  /**
   * Cancels a session and its running children; the worker running it (on any instance) aborts its LLM call on the
   * event (sent through the outbox).
   */
  async cancel(id: string, reason = 'cancelled by request'): Promise<Session> {
    const s = await this.store.cancel(id, reason);
    if (!s) {
      const cur = await this.store.getSession(id);
      throw new Conflict(`session '${id}' has already ended (${cur.status})`, { status: cur.status });
    }
    this.metrics.ended(s.cascadeId, 'cancelled');
    if (this.children) {
      // Its children go with it (each with its own event), and a cancelled child wakes its waiting parent.
      for (const kid of await this.children.children.running(id)) await this.cancel(kid, `parent ${id} cancelled`).catch(() => undefined);
      await this.children.ended(s);
    }
    return s;
  }

  /** Sends a signal (audible); the session's worker reads it at its next turn. */
  async signal(id: string, text: string): Promise<void> {
    if (!(await this.store.signal(id, text))) {
      const cur = await this.store.getSession(id);
      throw new Conflict(`session '${id}' has already ended (${cur.status})`, { status: cur.status });
    }
  }

  /** Answers a pending human checkpoint and queues its session again. */
  async respond(cpId: string, response: unknown): Promise<HumanCheckpoint> {
    const cp = await this.store.getHumanCheckpoint(cpId);
    if (!cp) throw new NotFound(`checkpoint '${cpId}'`);
    if (cp.status !== 'pending') throw new Conflict(`checkpoint '${cpId}' is ${cp.status}, not pending`, { status: cp.status });
    const closed = await this.store.closeHumanCheckpoint(cpId, 'answered', response);
    if (!closed) throw new Conflict(`checkpoint '${cpId}' was closed meanwhile`);
    await enqueueSession(this.queue, closed.sessionId, `h${cpId}`);
    return (await this.store.getHumanCheckpoint(cpId))!;
  }

  /** An ended session's recording for a snapshot test: its definition, outputs, and the replies and answers of its log. */
  async recording(id: string): Promise<{ cascadeId: string; status: string; spec: CascadeDefinition; outputs: Record<string, unknown>; recording: Recording }> {
    const s = await this.store.getSession(id);
    if (!TERMINAL.has(s.status)) throw new Conflict(`session '${id}' is ${s.status}; freeze it once it has ended`, { status: s.status });
    const logs = [];
    for (let after = 0; ; ) {
      const page = await this.store.logs(id, after, 1000);
      logs.push(...page);
      if (page.length < 1000) break;
      after = page.at(-1)!.id;
    }
    const humanPhases = new Set(s.spec.phases.filter((p) => p.human_input).map((p) => p.name));
    return { cascadeId: s.cascadeId, status: s.status, spec: s.spec, outputs: s.outputs, recording: recordingFromLogs(s.id, s.inputs, logs, humanPhases) };
  }

  /** Parses `k=v` pairs into an inputs object (values that are JSON are used as such). */
  static inputsFromPairs(pairs: string[]): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const p of pairs) {
      const eq = p.indexOf('=');
      if (eq <= 0) throw new Invalid(`input '${p}' is not key=value`, [{ path: 'input', message: 'key=value' }]);
      const raw = p.slice(eq + 1);
      let v: unknown = raw;
      try {
        v = JSON.parse(raw);
      } catch {
        // Not JSON: the text itself.
      }
      out[p.slice(0, eq)] = v;
    }
    return out;
  }
}
