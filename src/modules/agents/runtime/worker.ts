/** A worker's part: takes agent jobs (group `long`), runs them, routes kill events to the local run, holds the sweeper role. */
import type { Clock, EventBus, JobQueue, LlmClient, Logger, QueueWorker, RoleHandle, Roles, Subscription } from '../../../kernel/index.ts';
import type { AgentsConfig } from '../config.ts';
import { TERMINAL, type Agent } from '../model/agent.ts';
import { AgentFailed, AgentKilled } from '../model/events.ts';
import type { AgentStore } from '../store/index.ts';
import { AgentRun, type RunDeps, type Runtime } from './agent-run.ts';
import type { AgentMetrics } from './metrics.ts';
import { AGENT_QUEUE, CLEANUP_QUEUE, enqueueAgent, type AgentJob } from './queue.ts';
import { runSweeper } from './sweeper.ts';
import type { SwarmChannel, Tool } from './tools/index.ts';
import { removeWorktree } from './worktree.ts';

/** What the worker is built from. */
export interface WorkerDeps {
  store: AgentStore;
  queue: JobQueue;
  /** Where the kill events come from (the instance running a killed agent stops it). */
  bus: EventBus;
  llm: LlmClient;
  roles: Roles;
  log: Logger;
  clock: Clock;
  owner: string;
  config: AgentsConfig;
  metrics: AgentMetrics;
  runtimes: Record<'builtin' | 'cli', Runtime>;
  channel(agent: Agent): SwarmChannel | undefined;
  skillsPrompt(agent: Agent): Promise<string>;
  skill(name: string): string | undefined;
  /** The tools of the loaded extensions. */
  extensionTools(): Tool[];
  /** Hooks run after an agent ended (swarms advance on it). */
  onEnded: ((agent: Agent, status: string) => Promise<void>)[];
  /** Extra work of each sweeper pass (advancing running swarms). */
  sweepMore?: () => Promise<void>;
}

/** Runs agents on this instance. */
export class AgentWorker {
  private readonly active = new Map<string, AgentRun>();
  private workers: QueueWorker[] = [];
  private subs: Subscription[] = [];
  private sweeper: RoleHandle | undefined;
  /** Set by stop(): jobs that arrive while the queue closes leave their agent queued for another worker. */
  private stopping = false;

  constructor(private readonly d: WorkerDeps) {}

  /** Agents running on this instance now. */
  activeCount(): number {
    return this.active.size;
  }

  /** Checks dependencies, claims and runs one agent (the job handler). */
  async runAgent(agentId: string, stop?: AbortSignal): Promise<string> {
    const d = this.d;
    const current = await d.store.get(agentId).catch(() => undefined);
    if (this.stopping) return 'worker stopping';
    if (!current || current.status !== 'queued') return 'not queued';
    const waiting = await this.blockedBy(current);
    if (waiting) return waiting;
    const project = current.spec.project;
    const maxConcurrent = project ? d.config.projects[project]?.maxConcurrent : undefined;
    const sw = current.spec.swarm;
    const swarmLimit = sw?.maxRunning ? { id: sw.id, maxRunning: sw.maxRunning } : undefined;
    const claimed = await d.store.claim(agentId, d.owner, project && maxConcurrent ? { name: project, maxConcurrent } : undefined, swarmLimit);
    // At its project's (autoscaled swarm's) limit the agent stays queued; it is queued again when one of them ends.
    if (!claimed) return (project && maxConcurrent) || swarmLimit ? `project or swarm at its limit` : 'not claimed';
    const deps: RunDeps = { store: d.store, queue: d.queue, llm: d.llm, log: d.log, config: d.config, clock: d.clock, metrics: d.metrics, runtimes: d.runtimes, channel: d.channel, skillsPrompt: d.skillsPrompt, skill: d.skill, extensionTools: d.extensionTools, ended: (a, s) => this.ended(a, s) };
    const run = new AgentRun(deps, claimed.agent, claimed.checkpoint);
    this.active.set(agentId, run);
    // On shutdown the agent goes back to the queue and continues from its last saved turn on some worker.
    const onStop = () => run.stop('shutdown');
    stop?.addEventListener('abort', onStop, { once: true });
    // Claimed while stop() was already handing the active runs back: this one goes back too.
    if (this.stopping) onStop();
    try {
      return await run.execute();
    } finally {
      stop?.removeEventListener('abort', onStop);
      this.active.delete(agentId);
    }
  }

  /** Why the agent cannot start yet (a dependency still running), or undefined; fails it when a dependency failed. */
  private async blockedBy(agent: Agent): Promise<string | undefined> {
    if (agent.spec.dependsOn.length === 0) return undefined;
    const statuses = await this.d.store.statuses(agent.spec.dependsOn);
    for (const dep of agent.spec.dependsOn) {
      const s = statuses.get(dep);
      if (s === 'completed') continue;
      if (s === undefined || TERMINAL.has(s)) {
        const reason = `dependency ${dep} ${s ?? 'does not exist'}`;
        if (await this.d.store.failWaiting(agent.id, reason, AgentFailed.outbox({ agentId: agent.id, swarmId: agent.swarmId, reason }))) await this.ended(agent, 'failed');
        return reason;
      }
      // Queued again when the dependency ends (see ended()).
      return `waiting for ${dep}`;
    }
    return undefined;
  }

  /** After an agent ended: its worktree's cleanup policy, then agents waiting on it, then the hooks. */
  private async ended(agent: Agent, status: string): Promise<void> {
    const d = this.d;
    const policy = agent.spec.cleanup;
    try {
      if (policy === 'immediate' || (policy === 'on-success' && status === 'completed')) await removeWorktree(agent.repo, agent.worktree);
      else if (policy === 'delay') await d.queue.add<AgentJob>(CLEANUP_QUEUE, 'cleanup', { agentId: agent.id }, { jobId: `${agent.id}-cleanup`, delayMs: d.config.cleanupDelayMs });
    } catch (err) {
      d.log.warn({ err, agentId: agent.id }, 'worktree cleanup failed');
    }
    for (const next of await d.store.dependents(agent.id)) await enqueueAgent(d.queue, next.id, next.spec.priority, `after-${agent.id}`);
    const project = agent.spec.project;
    if (project && d.config.projects[project]?.maxConcurrent) {
      for (const next of await d.store.queuedInProject(project)) await enqueueAgent(d.queue, next.id, next.spec.priority, `slot-${agent.id}`);
    }
    for (const hook of d.onEnded) {
      try {
        await hook(agent, status);
      } catch (err) {
        d.log.warn({ err, agentId: agent.id }, 'agent end hook failed');
      }
    }
  }

  /** Lets the service run the end hooks of an agent ended outside a run (killed). */
  async endedOutsideRun(agent: Agent, status: string): Promise<void> {
    await this.ended(agent, status);
  }

  /** Starts taking jobs, listening for kills, and contending for the sweeper role. */
  async start(): Promise<void> {
    const d = this.d;
    // Kill events reach every instance: only the one running the agent acts.
    this.subs.push(await d.bus.subscribe(AgentKilled.subject(), AgentKilled.handler((e) => this.active.get(e.data.agentId)?.stop('killed'), () => undefined)));
    this.workers.push(await d.queue.work<AgentJob>(AGENT_QUEUE, (job) => this.runAgent(job.data.agentId, job.signal), { group: 'long', concurrency: d.config.concurrency }));
    this.workers.push(
      await d.queue.work<AgentJob>(CLEANUP_QUEUE, async (job) => {
        const a = await d.store.get(job.data.agentId);
        await removeWorktree(a.repo, a.worktree);
        return 'removed';
      }),
    );
    this.sweeper = d.roles.holdRole('agents-sweeper', { ttlMs: d.config.roleTtlMs }, (signal) => runSweeper(signal, d.store, d.queue, d.config, d.log, d.sweepMore));
  }

  /** Stops taking jobs; running agents go back to the queue from their last saved turn. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.sweeper?.stop();
    for (const run of this.active.values()) run.stop('shutdown');
    await Promise.all(this.workers.splice(0).map((w) => w.close()));
    await Promise.all(this.subs.splice(0).map((s) => s.unsubscribe()));
  }
}
