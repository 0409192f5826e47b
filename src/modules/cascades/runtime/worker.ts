/** A worker's part: takes session jobs (group `long`), runs them, and routes cancel/signal events to the local run. */
import type { Clock, EventBus, JobQueue, LlmClient, Logger, QueueWorker, RoleHandle, Roles, Subscription } from '../../../kernel/index.ts';
import type { CascadesConfig } from '../config.ts';
import { SessionCancelled, SessionSignalled } from '../model/events.ts';
import type { CascadeStore, SessionDataStore } from '../store/index.ts';
import type { ChildRunner } from './children.ts';
import type { BrowserPool } from './browser.ts';
import type { CascadeMetrics } from './metrics.ts';
import { PHASE_RUNNERS } from './phase-runners.ts';
import { SESSION_QUEUE, type SessionJob } from './queue.ts';
import { SessionRun } from './session-run.ts';
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
  data: SessionDataStore;
  children: ChildRunner;
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
    const { store, llm, log, config, metrics, data, children, clock, browsers } = this.d;
    const run = new SessionRun({ store, llm, log, config, metrics, data, children, clock, browsers, phases: PHASE_RUNNERS }, claimed.session, claimed.checkpoint);
    this.active.set(sessionId, run);
    // On shutdown the session is left running: its heartbeat lapses and the sweeper resumes it elsewhere.
    const onStop = () => run.stop('worker stopping');
    stop?.addEventListener('abort', onStop, { once: true });
    try {
      const outcome = await run.execute();
      // A child's end wakes its waiting parent (or lands in its log when detached).
      if (claimed.session.parentSessionId && (outcome === 'completed' || outcome === 'failed')) await this.d.children.ended(await this.d.store.getSession(sessionId));
      return outcome;
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
    this.sweeper = this.d.roles.holdRole('cascades-sweeper', { ttlMs: this.d.config.roleTtlMs }, (signal) => runSweeper(signal, this.d.store, this.d.queue, this.d.config, this.d.log, this.d.metrics, { data: this.d.data, children: this.d.children.children }, this.d.clock));
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
