/** A worker's part: takes session jobs (group `long`), runs them, and routes cancel/signal events to the local run. */
import type { Clock, EventBus, JobQueue, LlmClient, Logger, QueueWorker, RoleHandle, Roles, Subscription } from '../../../kernel/index.ts';
import type { CascadesConfig } from '../config.ts';
import { SessionCancelled, SessionSignalled } from '../model/events.ts';
import type { CascadeStore } from '../store/index.ts';
import { runLlmPhase } from './llm-phase.ts';
import type { BrowserPool } from './browser.ts';
import type { CascadeMetrics } from './metrics.ts';
import { SESSION_QUEUE, type SessionJob } from './queue.ts';
import { SessionRun } from './session-run.ts';
import { runSoundings } from './soundings.ts';
import { runSweeper } from './sweeper.ts';

/** What the worker is built from. */
export interface WorkerDeps {
  store: CascadeStore;
  queue: JobQueue;
  bus: EventBus;
  llm: LlmClient;
  roles: Roles;
  log: Logger;
  owner: string;
  config: CascadesConfig;
  metrics: CascadeMetrics;
  /** The kernel clock: question deadlines and the sweeper's period. */
  clock: Clock;
  /** The browser of the `browser` tool (none when disabled). */
  browsers?: BrowserPool;
}

/** Runs sessions on this instance. */
export class CascadeWorker {
  private readonly active = new Map<string, SessionRun>();
  private worker: QueueWorker | undefined;
  private subs: Subscription[] = [];
  private sweeper: RoleHandle | undefined;

  constructor(private readonly d: WorkerDeps) {}

  /** Sessions running on this instance now. */
  activeCount(): number {
    return this.active.size;
  }

  /** Claims and runs one session (a job handler; also callable directly). */
  async runSession(sessionId: string, stop?: AbortSignal): Promise<string> {
    const claimed = await this.d.store.claim(sessionId, this.d.owner, this.d.config.leaseMs);
    if (!claimed) return 'not claimed';
    const run = new SessionRun({ store: this.d.store, llm: this.d.llm, log: this.d.log, config: this.d.config, metrics: this.d.metrics, clock: this.d.clock, browsers: this.d.browsers, phases: { llm: runLlmPhase, soundings: runSoundings } }, claimed.session, claimed.checkpoint);
    this.active.set(sessionId, run);
    // On shutdown the session is left running: its heartbeat lapses and the sweeper resumes it elsewhere.
    const onStop = () => run.stop('worker stopping');
    stop?.addEventListener('abort', onStop, { once: true });
    try {
      return await run.execute();
    } finally {
      stop?.removeEventListener('abort', onStop);
      this.active.delete(sessionId);
    }
  }

  /** Starts taking jobs, listening for control events, and contending for the sweeper role. */
  async start(): Promise<void> {
    // Control events are plain (ephemeral) subscriptions on every instance: only the one running the session acts.
    this.subs.push(await this.d.bus.subscribe(SessionCancelled.subject(), SessionCancelled.handler((e) => this.active.get(e.data.sessionId)?.stop('cancelled'), () => undefined)));
    this.subs.push(await this.d.bus.subscribe(SessionSignalled.subject(), SessionSignalled.handler((e) => this.active.get(e.data.sessionId)?.beatNow(), () => undefined)));
    this.worker = await this.d.queue.work<SessionJob>(SESSION_QUEUE, (job) => this.runSession(job.data.sessionId, job.signal), { group: 'long', concurrency: this.d.config.concurrency });
    this.sweeper = this.d.roles.holdRole('cascades-sweeper', { ttlMs: this.d.config.roleTtlMs }, (signal) => runSweeper(signal, this.d.store, this.d.queue, this.d.config, this.d.log, this.d.metrics, this.d.clock));
  }

  /** Stops taking jobs; running sessions stop and are left for recovery. */
  async stop(): Promise<void> {
    await this.sweeper?.stop();
    for (const run of this.active.values()) run.stop('worker stopping');
    await this.worker?.close();
    await Promise.all(this.subs.splice(0).map((s) => s.unsubscribe()));
    await this.d.browsers?.close();
  }
}
