/**
 * Swarms: a swarm is advanced whenever one of its agents ends (on the instance that saw it end) and by the sweeper's
 * pass, and each advance is idempotent: its strategy plans from the agents' states, and agents have ids of the form
 * `<swarm>-<key>`, so two instances advancing at once create each agent once, and the swarm's end is written once.
 */
import { resolve } from 'node:path';
import { newId, type JobQueue, type Logger } from '../../../kernel/index.ts';
import { TERMINAL, type Agent, type SpawnInput } from '../model/agent.ts';
import { SwarmCompleted, SwarmFailed, SwarmMessage, SwarmScaled, SwarmStarted, SwarmStep } from '../model/events.ts';
import { STRATEGY } from '../model/strategies/index.ts';
import { DEFAULT_MAX_CONCURRENCY, type Swarm, type SwarmNode, type SwarmSpec } from '../model/swarm.ts';
import type { AgentService } from '../service.ts';
import type { AgentStore, SwarmStore } from '../store/index.ts';
import type { SwarmChannel } from './tools/index.ts';
import { enqueueAgent } from './queue.ts';
import { checkRepository } from './worktree.ts';

/** Agents of an autoscaled swarm not ended at a time: all its planned work is queued, up to this many rows. */
const AUTOSCALE_QUEUE_CAP = 1_000;

/** Creates, advances and kills swarms. */
export class SwarmEngine {
  constructor(
    private readonly swarms: SwarmStore,
    private readonly agents: AgentStore,
    private readonly service: AgentService,
    private readonly queue: JobQueue,
    private readonly log: Logger,
  ) {}

  /** Checks the repository, stores the swarm and starts its first agents. */
  async create(spec: SwarmSpec): Promise<Swarm> {
    const { top } = await checkRepository(resolve(spec.repo), spec.baseBranch);
    const id = newId();
    // The started event is written with the row (the kernel outbox), like every swarm event that has a write beside it.
    const swarm = await this.swarms.create(id, { ...spec, repo: top }, SwarmStarted.outbox({ swarmId: id, name: spec.name, strategy: spec.strategy }));
    await this.advance(swarm.id);
    return this.swarms.get(swarm.id);
  }

  /**
   * Plans the next step from the agents' states: spawns what is missing (within max_concurrency; with autoscale, all
   * of it, queued) or ends the swarm. An autoscaled swarm's capacity is then decided again, and when `ended` (an agent
   * of it that just ended) freed a slot, its queued agents are queued again up to the free slots.
   */
  async advance(swarmId: string, ended?: string): Promise<void> {
    const swarm = await this.swarms.get(swarmId);
    if (swarm.status !== 'running') return;
    const spec = swarm.spec;
    const members = await this.agents.list({ swarm: swarmId, limit: 10_000 });
    const nodes = new Map<string, SwarmNode>(members.map((a) => [a.spec.swarm!.key, { key: a.spec.swarm!.key, id: a.id, status: a.status, result: a.result, error: a.error, branch: a.branch, commitSha: a.commitSha }]));
    const active = members.filter((a) => !TERMINAL.has(a.status));
    const tokens = members.reduce((s, a) => s + a.tokensIn + a.tokensOut, 0);
    const cost = members.reduce((s, a) => s + a.cost, 0);
    if ((spec.budget.maxTokens && tokens >= spec.budget.maxTokens) || (spec.budget.maxCost && cost >= spec.budget.maxCost)) {
      const error = `swarm budget spent (${tokens} tokens, cost ${cost})`;
      if (await this.swarms.finish(swarmId, 'failed', { agents: [...nodes.values()].map((n) => ({ key: n.key, agentId: n.id, status: n.status })) }, error, SwarmFailed.outbox({ swarmId, name: spec.name, reason: error }))) {
        for (const a of active) await this.service.kill(a.id, error).catch(() => undefined);
      }
      return;
    }
    const plan = STRATEGY[spec.strategy](spec, nodes);
    if (plan.done) {
      const event = plan.done.status === 'completed' ? SwarmCompleted.outbox({ swarmId, name: spec.name, result: plan.done.result }) : SwarmFailed.outbox({ swarmId, name: spec.name, reason: plan.done.error ?? 'failed' });
      await this.swarms.finish(swarmId, plan.done.status, plan.done.result, plan.done.error ?? null, event);
      return;
    }
    const scale = spec.autoscale;
    const room = Math.max(0, (scale ? AUTOSCALE_QUEUE_CAP : (spec.max_concurrency ?? DEFAULT_MAX_CONCURRENCY)) - active.length);
    const step = plan.spawn.slice(0, room);
    // The step is announced by the row of its first agent (ids are `<swarm>-<key>`, so the step's agents are known
    // before they are made): agents.swarm.step is written in the statement that begins the step, and an advance made
    // twice (another instance made that agent already) writes it no second time.
    const stepEvent = SwarmStep.outbox({ swarmId, name: spec.name, step: plan.spawn.map((p) => p.key).join(','), agents: step.map((p) => `${swarmId}-${p.key}`) }, { correlationId: swarmId });
    for (const [i, p] of step.entries()) {
      const t = spec.template;
      const input: SpawnInput = {
        task: p.task,
        repo: spec.repo,
        baseBranch: p.baseBranch ?? spec.baseBranch,
        runtime: t.runtime ?? 'builtin',
        cli: t.cli,
        model: t.model,
        budget: t.budget ?? {},
        tools: t.tools ?? { deny: [] },
        skills: t.skills ?? [],
        labels: { ...(t.labels ?? {}), swarm: spec.name },
        priority: t.priority ?? 'normal',
        maxTurns: t.maxTurns,
        wallClockMs: t.wallClockMs,
        cleanup: t.cleanup,
        project: t.project,
        retries: t.retries ?? 0,
        retryBackoffMs: t.retryBackoffMs ?? 1_000,
        dependsOn: [],
        context: p.context,
      };
      try {
        await this.service.spawnOnce(input, { id: `${swarmId}-${p.key}`, swarm: { id: swarmId, role: p.role, key: p.key, ...(scale ? { maxRunning: scale.max } : {}) }, events: i === 0 ? [stepEvent] : [] });
      } catch (err) {
        // A spawn the swarm cannot make (the template names an unknown model, a stage's branch vanished) ends the swarm.
        const error = `agent ${p.key} could not start: ${(err as Error).message}`;
        await this.swarms.finish(swarmId, 'failed', { agents: [...nodes.values()].map((n) => ({ key: n.key, agentId: n.id, status: n.status })) }, error, SwarmFailed.outbox({ swarmId, name: spec.name, reason: error }));
        return;
      }
    }
    if (scale) await this.rescale(swarm, scale, ended);
  }

  /**
   * Decides the autoscaled swarm's capacity again (tasks were queued or one ended) and, after an end, queues its waiting
   * agents again up to the free slots: a worker refused one at the limit and left it queued (the claim counts the
   * swarm's running agents under a lock, so the limit holds across instances). Lost jobs are queued by the sweeper.
   */
  private async rescale(swarm: Swarm, scale: { min: number; max: number }, ended: string | undefined): Promise<void> {
    const changed = await this.swarms.rescale(swarm.id, scale, (s) => SwarmScaled.outbox({ swarmId: swarm.id, name: swarm.spec.name, ...s }));
    if (changed) this.log.info({ swarmId: swarm.id, ...changed }, 'swarm scaled');
    if (!ended) return;
    const running = (await this.agents.list({ swarm: swarm.id, status: 'running', limit: 10_000 })).length;
    const free = Math.max(0, scale.max - running);
    for (const next of await this.agents.queuedInSwarm(swarm.id, free)) await enqueueAgent(this.queue, next.id, next.spec.priority, `slot-${ended}`);
  }

  /** Advances the swarm of an agent that ended. */
  async agentEnded(agent: Agent): Promise<void> {
    if (agent.swarmId) await this.advance(agent.swarmId, agent.id);
  }

  /** Advances every running swarm (the sweeper's pass: catches an advance lost with a crashed instance). */
  async advanceAll(): Promise<void> {
    for (const id of await this.swarms.running()) {
      try {
        await this.advance(id);
      } catch (err) {
        this.log.warn({ err, swarmId: id }, 'swarm advance failed');
      }
    }
  }

  /** Kills a running swarm and its agents that have not ended. */
  async kill(swarmId: string, reason = 'killed by request'): Promise<Swarm> {
    const swarm = await this.swarms.get(swarmId);
    if (await this.swarms.finish(swarmId, 'killed', swarm.result, reason, SwarmFailed.outbox({ swarmId, name: swarm.spec.name, reason }))) {
      for (const a of await this.agents.list({ swarm: swarmId, limit: 10_000 })) if (!TERMINAL.has(a.status)) await this.service.kill(a.id, reason).catch(() => undefined);
    }
    return this.swarms.get(swarmId);
  }

  /** The channel an agent of a swarm talks on. */
  channel(agent: Agent): SwarmChannel | undefined {
    const s = agent.spec.swarm;
    if (!s) return undefined;
    return {
      post: async (text) => {
        await this.swarms.post(s.id, agent.id, s.role, text, SwarmMessage.outbox({ swarmId: s.id, agentId: agent.id, role: s.role, text }));
      },
      read: (after) => this.swarms.messages(s.id, after),
    };
  }
}
