/**
 * Swarms: a swarm is advanced whenever one of its agents ends (on the instance that saw it end) and by the sweeper's
 * pass, and each advance is idempotent: its strategy plans from the agents' states, and agents have ids of the form
 * `<swarm>-<key>`, so two instances advancing at once create each agent once, and the swarm's end is written once.
 */
import { resolve } from 'node:path';
import { newId, type EventBus, type Logger } from '../../../kernel/index.ts';
import { TERMINAL, type Agent, type SpawnInput } from '../model/agent.ts';
import { SwarmCompleted, SwarmFailed, SwarmMessage, SwarmStarted, SwarmStep } from '../model/events.ts';
import { STRATEGY } from '../model/strategies/index.ts';
import type { Swarm, SwarmNode, SwarmSpec } from '../model/swarm.ts';
import type { AgentService } from '../service.ts';
import type { AgentStore, SwarmStore } from '../store/index.ts';
import type { SwarmChannel } from './tools/index.ts';
import { checkRepository } from './worktree.ts';

/** Creates, advances and kills swarms. */
export class SwarmEngine {
  constructor(
    private readonly swarms: SwarmStore,
    private readonly agents: AgentStore,
    private readonly service: AgentService,
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  /** Checks the repository, stores the swarm and starts its first agents. */
  async create(spec: SwarmSpec): Promise<Swarm> {
    const { top } = await checkRepository(resolve(spec.repo), spec.baseBranch);
    const swarm = await this.swarms.create(newId(), { ...spec, repo: top });
    await SwarmStarted.publish(this.bus, { swarmId: swarm.id, name: spec.name, strategy: spec.strategy }, { correlationId: swarm.id });
    await this.advance(swarm.id);
    return this.swarms.get(swarm.id);
  }

  /** Plans the next step from the agents' states: spawns what is missing (within max_concurrency) or ends the swarm. */
  async advance(swarmId: string): Promise<void> {
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
      if (await this.swarms.finish(swarmId, 'failed', { agents: [...nodes.values()].map((n) => ({ key: n.key, agentId: n.id, status: n.status })) }, error)) {
        for (const a of active) await this.service.kill(a.id, error).catch(() => undefined);
        await SwarmFailed.publish(this.bus, { swarmId, name: spec.name, reason: error }, { correlationId: swarmId });
      }
      return;
    }
    const plan = STRATEGY[spec.strategy](spec, nodes);
    if (plan.done) {
      if (await this.swarms.finish(swarmId, plan.done.status, plan.done.result, plan.done.error ?? null)) {
        if (plan.done.status === 'completed') await SwarmCompleted.publish(this.bus, { swarmId, name: spec.name, result: plan.done.result }, { correlationId: swarmId });
        else await SwarmFailed.publish(this.bus, { swarmId, name: spec.name, reason: plan.done.error ?? 'failed' }, { correlationId: swarmId });
      }
      return;
    }
    const room = Math.max(0, spec.max_concurrency - active.length);
    const started: string[] = [];
    for (const p of plan.spawn.slice(0, room)) {
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
        const a = await this.service.spawnOnce(input, { id: `${swarmId}-${p.key}`, swarm: { id: swarmId, role: p.role, key: p.key } });
        if (a) started.push(a.id);
      } catch (err) {
        // A spawn the swarm cannot make (the template names an unknown model, a stage's branch vanished) ends the swarm.
        const error = `agent ${p.key} could not start: ${(err as Error).message}`;
        if (await this.swarms.finish(swarmId, 'failed', { agents: [...nodes.values()].map((n) => ({ key: n.key, agentId: n.id, status: n.status })) }, error)) await SwarmFailed.publish(this.bus, { swarmId, name: spec.name, reason: error }, { correlationId: swarmId });
        return;
      }
    }
    if (started.length > 0) await SwarmStep.publish(this.bus, { swarmId, name: spec.name, step: plan.spawn.map((p) => p.key).join(','), agents: started }, { correlationId: swarmId });
  }

  /** Advances the swarm of an agent that ended. */
  async agentEnded(agent: Agent): Promise<void> {
    if (agent.swarmId) await this.advance(agent.swarmId);
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
    if (await this.swarms.finish(swarmId, 'killed', swarm.result, reason)) {
      for (const a of await this.agents.list({ swarm: swarmId, limit: 10_000 })) if (!TERMINAL.has(a.status)) await this.service.kill(a.id, reason).catch(() => undefined);
      await SwarmFailed.publish(this.bus, { swarmId, name: swarm.spec.name, reason }, { correlationId: swarmId });
    }
    return this.swarms.get(swarmId);
  }

  /** The channel an agent of a swarm talks on. */
  channel(agent: Agent): SwarmChannel | undefined {
    const s = agent.spec.swarm;
    if (!s) return undefined;
    return {
      post: async (text) => {
        await this.swarms.post(s.id, agent.id, s.role, text);
        await SwarmMessage.publish(this.bus, { swarmId: s.id, agentId: agent.id, role: s.role, text }, { correlationId: s.id });
      },
      read: (after) => this.swarms.messages(s.id, after),
    };
  }
}
