/**
 * One claimed session on this worker: the phase loop from the last checkpoint, a heartbeat, and the writes of each
 * turn. Completed phases are read from the session row and never run again.
 *
 * Writes are write-behind: a turn's write (state, checkpoint, logs, costs, events in one statement) goes out in the
 * background while the next LLM call is already on its way, and nothing that follows that call (tools, validation,
 * the next write) happens before the write has committed. Writes go out one at a time, in order; after one fails,
 * every later one fails too, so the database never holds a later turn without the earlier one.
 */
import { CapstanError, interpolateText, realClock, type ChatRequest, type Clock, type ChatResult, type LlmClient, type Logger, type OutboxEvent } from '../../../kernel/index.ts';
import type { CascadesConfig } from '../config.ts';
import type { CascadeDefinition, OnTimeout, PhaseDefinition } from '../model/definition.ts';
import { PhaseCompleted, SessionCompleted, SessionFailed } from '../model/events.ts';
import type { BrowserSnapshot, CheckpointData, CostEntry, LogEntry, Session } from '../model/session.ts';
import { prepareTurn, type CascadeStore, type ParkedQuestion, type SessionDataStore, type TurnWrite } from '../store/index.ts';
import { interruptible, type BrowserPool, type SessionBrowser } from './browser.ts';
import type { ChildRunner } from './children.ts';
import type { CascadeMetrics, PhaseKind } from './metrics.ts';
import { parkedQuestion, timeoutOutcome } from './question-timeout.ts';

/** A phase (or the session) cannot go on; the message becomes the session's error. */
export class PhaseFailure extends Error {}

/** The worker no longer owns the session (cancelled, or fenced out by a newer epoch). */
class Fenced extends Error {}

/** What a finished phase hands on. */
export interface PhaseResult {
  output: unknown;
  route?: string;
}

/** The part of the store a run writes through (a snapshot replay gives one that keeps everything in memory). */
export type RunStore = Pick<CascadeStore, 'writeTurn' | 'beat' | 'block' | 'getHumanCheckpoint'>;

/** What a session run needs from its worker. */
export interface RunDeps {
  store: RunStore;
  llm: LlmClient;
  log: Logger;
  config: CascadesConfig;
  metrics: CascadeMetrics;
  /** The per-session data schemas (sql phases, the sql tool, for_each_row results). */
  data: SessionDataStore;
  /** Starts child sessions (for_each_row, run_cascade, async_cascades, cascade validators). */
  children: ChildRunner;
  /** The kernel clock: question deadlines are set on it (real time when not given). */
  clock?: Clock;
  /** The worker's browser, for the `browser` tool (none: the tool says so). */
  browsers?: BrowserPool;
  /** Runs an LLM phase; injected so the phase kinds stay in their own files. */
  phases: {
    llm(run: SessionRun, phase: PhaseDefinition, resume: CheckpointData | undefined): Promise<PhaseResult | 'blocked'>;
    soundings(run: SessionRun, phase: PhaseDefinition, resume: CheckpointData | undefined): Promise<PhaseResult | 'blocked'>;
    sql(run: SessionRun, phase: PhaseDefinition): Promise<PhaseResult>;
    forEachRow(run: SessionRun, phase: PhaseDefinition): Promise<PhaseResult | 'blocked'>;
    /** Starts the phase's async_cascades with this trigger (idempotent: deterministic child ids). */
    asyncCascades(run: SessionRun, phase: PhaseDefinition, trigger: 'on_start' | 'on_end'): Promise<void>;
  };
}

/** What kind of phase this is. */
export function phaseKind(phase: PhaseDefinition): PhaseKind {
  if (phase.human_input) return 'human';
  if (phase.sql !== undefined) return 'sql';
  if (phase.for_each_row) return 'for_each_row';
  return phase.soundings ? 'soundings' : 'llm';
}

/** A session being executed by this worker. */
export class SessionRun {
  readonly id: string;
  readonly spec: CascadeDefinition;
  readonly inputs: Record<string, unknown>;
  readonly state: Record<string, unknown>;
  readonly outputs: Record<string, unknown>;
  readonly llm: LlmClient;
  readonly data: SessionDataStore;
  readonly children: ChildRunner;
  private readonly completed: string[];
  private readonly epoch: number;
  private readonly abort = new AbortController();
  private pendingLogs: LogEntry[] = [];
  private pendingCosts: CostEntry[] = [];
  private signals: string[] = [];
  /** Aborted (then replaced) when operator signals arrive: a browser action in progress gives up and the model hears them. */
  private audible = new AbortController();
  private tokens: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private beating: Promise<void> | undefined;
  /** The last write queued; resolves once it (and every write before it) has committed. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: RunDeps,
    session: Session,
    /** The newest checkpoint, read with the claim. */
    private readonly lastCheckpoint: CheckpointData | undefined,
  ) {
    this.id = session.id;
    this.spec = session.spec;
    this.inputs = session.inputs;
    this.state = session.state;
    this.outputs = session.outputs;
    this.completed = session.completed;
    this.epoch = session.epoch;
    this.llm = deps.llm;
    this.data = deps.data;
    this.children = deps.children;
    this.tokens = session.tokensIn + session.tokensOut;
    this.current = session.currentPhase;
    this.browserState = lastCheckpoint?.browser;
  }

  /** The phase in progress (null when done). */
  current: string | null;

  private sessionBrowser: Promise<SessionBrowser> | undefined;
  /**
   * The session's browser as of its last browser turn (or as the checkpoint this run resumed from had it): every
   * checkpoint carries it, so a run on another worker, or after the session parked, opens the context from it.
   */
  private browserState: BrowserSnapshot | undefined;

  /**
   * The session's browser context, opened on first use and closed when this run ends; undefined without a browser.
   * When the session had a browser before (an earlier run, another worker), the context starts with its cookies and
   * localStorage and its pages reopened at their URLs, logged as a `browser` row.
   */
  get browser(): (() => Promise<SessionBrowser>) | undefined {
    const pool = this.deps.browsers;
    if (!pool) return undefined;
    return () => (this.sessionBrowser ??= this.openBrowser(pool));
  }

  private async openBrowser(pool: BrowserPool): Promise<SessionBrowser> {
    const snap = this.browserState;
    const b = await pool.forSession(this.id, this.spec.allow_hosts, snap);
    if (snap) {
      const failed = await b.reopen(snap.pages);
      this.log({ phase: this.current, turn: null, kind: 'browser', content: { restored: snap.pages, cookies: snap.storage?.cookies.length ?? 0, origins: snap.storage?.origins.length ?? 0, dropped: snap.dropped, failed } });
    }
    return b;
  }

  /**
   * Records the browser's cookies, localStorage and page URLs for the next checkpoints (after a turn that used the
   * browser). A snapshot that cannot be taken in the action timeout leaves the previous one, with a warning.
   */
  async captureBrowser(): Promise<void> {
    const open = this.sessionBrowser;
    if (!open) return;
    try {
      const b = await open;
      const limit = AbortSignal.any([this.abort.signal, AbortSignal.timeout(Math.min(this.deps.config.browser.actionTimeoutMs, 15_000))]);
      this.browserState = await interruptible(limit, () => b.snapshot());
    } catch (err) {
      if (!this.abort.signal.aborted) this.deps.log.warn({ err, session: this.id }, 'could not record the session browser for its checkpoint');
    }
  }

  /** Phases completed so far (with the current visit, it names a question uniquely when handoffs loop). */
  get completedCount(): number {
    return this.completed.length;
  }

  /** Names of the phases completed so far, in order. */
  get completedPhases(): readonly string[] {
    return this.completed;
  }

  /** Aborted when the session is cancelled, fenced out, or the worker stops. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Stops the run at once (cancel event, shutdown); the in-flight LLM call is aborted. */
  stop(reason: string): void {
    this.abort.abort(new Fenced(reason));
  }

  /** Renews the heartbeat now and picks up signals (called when a signal event arrives). */
  beatNow(): void {
    if (this.beating) return;
    this.beating = this.deps.store
      .beat(this.id, this.epoch)
      .then((taken) => {
        if (taken === undefined) this.stop('the session is no longer this worker\'s (cancelled or taken over)');
        else if (taken.length > 0) {
          this.signals.push(...taken);
          this.audible.abort(new Error('an operator signal'));
          this.audible = new AbortController();
        }
      })
      .catch((err: unknown) => this.deps.log.warn({ err, session: this.id }, 'cascade heartbeat failed'))
      .finally(() => (this.beating = undefined));
  }

  /**
   * A signal for one interruptible action (a browser action): aborted when the run stops or an operator signal
   * arrives, and already aborted while signals wait for the next turn (the model should hear them before acting on).
   */
  interruptSignal(): AbortSignal {
    if (this.signals.length > 0) return AbortSignal.abort(new Error('an operator signal'));
    return AbortSignal.any([this.abort.signal, this.audible.signal]);
  }

  /** Signals received since the last call. */
  takeSignals(): string[] {
    const s = this.signals;
    this.signals = [];
    return s;
  }

  /** Queues a log row for the next save. */
  log(entry: LogEntry): void {
    this.pendingLogs.push(entry);
  }

  /** Records one LLM call's usage for the next save and the token budget. */
  charge(phase: string, model: string, tokensIn: number, tokensOut: number, cost: number | undefined): void {
    this.tokens += tokensIn + tokensOut;
    this.deps.metrics.llmCall(this.spec.cascade_id, tokensIn, tokensOut, cost);
    this.pendingCosts.push({ phase, model, tokensIn, tokensOut, cost: cost ?? null });
  }

  /** Fails the session when its token budget is spent. */
  checkBudget(): void {
    const budget = this.spec.token_budget;
    if (budget !== undefined && this.tokens >= budget) throw new PhaseFailure(`token budget of ${budget} spent (${this.tokens} tokens used)`);
  }

  /**
   * Queues a write of `w` with the state, outputs, logs and costs as they are now; resolves with the session's total
   * cost once committed, rejects (Fenced) when this worker no longer owns the session.
   */
  private write(w: Pick<TurnWrite, 'kind' | 'checkpoint' | 'events' | 'finish'>): Promise<number> {
    // The browser outlives phases: each checkpoint of a session still going on carries its latest snapshot.
    if (this.browserState && w.checkpoint.phase !== null && !w.finish) w = { ...w, checkpoint: { ...w.checkpoint, browser: this.browserState } };
    const prepared = prepareTurn(this.id, this.epoch, { ...w, state: this.state, outputs: this.outputs, completed: this.completed, logs: this.pendingLogs, costs: this.pendingCosts });
    this.pendingLogs = [];
    this.pendingCosts = [];
    const done = this.writing.then(async () => {
      const cost = await this.deps.store.writeTurn(prepared);
      if (cost === undefined) {
        this.stop('fenced');
        throw new Fenced('the session is no longer this worker\'s');
      }
      return cost;
    });
    this.writing = done.then(() => undefined);
    // Whoever needs the outcome awaits flush(); the chain itself must never count as an unhandled rejection.
    this.writing.catch(() => undefined);
    return done;
  }

  /** Queues a checkpoint write with the queued logs and costs (and events to publish when it commits). */
  save(kind: 'turn' | 'phase', checkpoint: CheckpointData, events: OutboxEvent[] = []): void {
    this.write({ kind, checkpoint, events }).catch(() => undefined);
  }

  /** Waits until every queued write has committed; throws when one failed (Fenced when the session was lost). */
  flush(): Promise<void> {
    return this.writing;
  }

  /** An LLM call that overlaps the queued writes; it returns only once they have committed as well. */
  async chat(req: ChatRequest): Promise<ChatResult> {
    const [res] = await Promise.all([this.llm.chat(req), this.flush()]);
    return res;
  }

  /** Runs phases from the current one to the end (or until the session blocks on a person). */
  async execute(): Promise<'completed' | 'blocked' | 'failed' | 'stopped'> {
    const { config } = this.deps;
    this.timer = setInterval(() => this.beatNow(), config.heartbeatMs);
    try {
      const cp = this.lastCheckpoint;
      let resume = cp && cp.phase === this.current && cp.turn > 0 ? cp : undefined;
      let runs = this.completed.length;
      // Back from another worker or a parked wait into a browsing phase: the browser is reopened before the next turn.
      if (this.browserState && this.spec.phases.find((p) => p.name === this.current)?.tools.includes('browser') && this.browser) {
        await interruptible(this.abort.signal, this.browser).catch((err: unknown) => this.deps.log.warn({ err, session: this.id }, 'reopening the session browser failed'));
      }
      // The last phase's event goes out with the write that ends the session.
      const finalEvents: OutboxEvent[] = [];
      while (this.current !== null) {
        if (++runs > config.maxPhaseRuns) throw new PhaseFailure(`more than ${config.maxPhaseRuns} phase runs (do handoffs loop?)`);
        const phase = this.spec.phases.find((p) => p.name === this.current);
        if (!phase) throw new PhaseFailure(`phase '${this.current}' is not in the definition`);
        let result: PhaseResult | 'blocked';
        const kind = phaseKind(phase);
        const began = performance.now();
        if (phase.async_cascades.length > 0) await this.deps.phases.asyncCascades(this, phase, 'on_start');
        if (kind === 'human') result = await this.human(phase, runs);
        else if (kind === 'soundings') result = await this.deps.phases.soundings(this, phase, resume);
        else if (kind === 'sql') result = await this.deps.phases.sql(this, phase);
        else if (kind === 'for_each_row') result = await this.deps.phases.forEachRow(this, phase);
        else result = await this.deps.phases.llm(this, phase, resume);
        if (result === 'blocked') return 'blocked';
        if (phase.async_cascades.length > 0) await this.deps.phases.asyncCascades(this, phase, 'on_end');
        this.deps.metrics.phase(this.spec.cascade_id, kind, (performance.now() - began) / 1000);
        resume = undefined;
        this.outputs[phase.name] = result.output;
        this.completed.push(phase.name);
        const index = this.spec.phases.indexOf(phase);
        const next = result.route ?? phase.handoffs[0] ?? this.spec.phases[index + 1]?.name ?? null;
        this.log({ phase: phase.name, turn: null, kind: 'phase', content: { output: result.output, next } });
        this.current = next;
        const event = PhaseCompleted.outbox({ sessionId: this.id, cascadeId: this.spec.cascade_id, phase: phase.name, next, output: result.output });
        if (next === null) finalEvents.push(event);
        else this.save('phase', { phase: next, turn: 0, messages: [] }, [event]);
      }
      // cost: 0 is a placeholder the statement replaces with the session's total after this write.
      finalEvents.push(SessionCompleted.outbox({ sessionId: this.id, cascadeId: this.spec.cascade_id, outputs: this.outputs, cost: 0 }));
      await this.write({ kind: 'phase', checkpoint: { phase: null, turn: 0, messages: [] }, events: finalEvents, finish: { status: 'completed' } });
      this.deps.metrics.ended(this.spec.cascade_id, 'completed');
      return 'completed';
    } catch (err) {
      if (err instanceof Fenced || this.abort.signal.aborted) return 'stopped';
      const reason = err instanceof PhaseFailure || err instanceof CapstanError ? err.message : `internal error: ${(err as Error).message}`;
      if (!(err instanceof PhaseFailure || err instanceof CapstanError)) this.deps.log.error({ err, session: this.id }, 'cascade session failed');
      this.log({ phase: this.current, turn: null, kind: 'error', content: { message: reason, code: err instanceof CapstanError ? err.code : undefined } });
      try {
        const failed = SessionFailed.outbox({ sessionId: this.id, cascadeId: this.spec.cascade_id, phase: this.current, reason });
        await this.write({ kind: 'phase', checkpoint: { phase: this.current, turn: 0, messages: [] }, events: [failed], finish: { status: 'error', error: reason } });
      } catch {
        // Fenced out, or the database failed: the session is someone else's now, or the sweeper resumes it.
        return 'stopped';
      }
      this.deps.metrics.ended(this.spec.cascade_id, 'error');
      return 'failed';
    } finally {
      clearInterval(this.timer);
      // One context per session run: a parked or finished session holds no browser.
      if (this.sessionBrowser) await this.sessionBrowser.then((b) => b.close()).catch((err: unknown) => this.deps.log.warn({ err, session: this.id }, 'closing the session browser failed'));
      await this.beating;
      await this.writing.catch(() => undefined);
    }
  }

  /** A human checkpoint: use its answer when there is one, otherwise park the session on a new one. */
  private async human(phase: PhaseDefinition, visit: number): Promise<PhaseResult | 'blocked'> {
    const h = phase.human_input!;
    const cpId = `${this.id}.${phase.name}.${visit}`;
    const existing = await this.deps.store.getHumanCheckpoint(cpId);
    if (existing?.status === 'answered') return { output: existing.response };
    if (existing?.status === 'timed_out') {
      const outcome = timeoutOutcome(h.on_timeout, cpId);
      if ('fail' in outcome) throw new PhaseFailure(outcome.fail);
      return { output: outcome.answer };
    }
    if (existing) throw new PhaseFailure(`human checkpoint ${cpId} is ${existing.status}`);
    const prompt = interpolateText(h.prompt, { input: this.inputs, state: this.state, outputs: this.outputs });
    await this.park({ phase: phase.name, turn: 0, messages: [] }, this.question({ id: cpId, phase: phase.name, prompt }, h, 'human_input.timeout'));
    return 'blocked';
  }

  /** The question to park on, with its deadline on the kernel clock when `limits` give a timeout. */
  question(q: { id: string; phase: string; prompt: string }, limits: { timeout?: string; on_timeout: OnTimeout } | undefined, path: string): ParkedQuestion {
    return parkedQuestion(this.deps.clock ?? realClock, q, limits, path);
  }

  /** A human checkpoint by id (the answer a resumed session continues with). */
  humanCheckpoint(cpId: string) {
    return this.deps.store.getHumanCheckpoint(cpId);
  }

  /**
   * Writes `checkpoint` (after every queued write) and parks the session (blocked, holding no job) until fewer than
   * `running` of its children are still running; 'go-on' when that is so already. Throws when fenced out.
   */
  async waitForChildren(running: number, checkpoint: CheckpointData): Promise<'blocked' | 'go-on'> {
    await this.write({ kind: 'turn', checkpoint, events: [] });
    const outcome = await this.children.children.waitFor(this.id, this.epoch, running);
    if (outcome === 'fenced') {
      this.stop('fenced');
      throw new Fenced('the session is no longer this worker\'s');
    }
    return outcome;
  }

  /**
   * Writes `checkpoint` (after every queued write) and parks the session (blocked) on the human checkpoint `cp`;
   * an answer through the API queues the session again and it resumes from this checkpoint.
   */
  async park(checkpoint: CheckpointData, cp: ParkedQuestion): Promise<void> {
    // Logs wait for the next write; write them first so the block is one consistent picture.
    await this.write({ kind: 'turn', checkpoint, events: [] });
    await this.deps.store.block(this.id, this.epoch, this.spec.cascade_id, cp);
  }
}
