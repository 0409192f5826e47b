/** The agents service: what the API, the CLI and the actions do, over the store and queue. Stateless per call. */
import { resolve } from 'node:path';
import { CapstanError, Conflict, Invalid, newId, type JobQueue, type LlmClient, type OutboxEvent } from '../../kernel/index.ts';
import type { AgentsConfig } from './config.ts';
import { branchOf, PRIORITIES, TERMINAL, type Agent, type AgentSpec, type SpawnInput } from './model/agent.ts';
import { AgentKilled, AgentPauseRequested, AgentQueued } from './model/events.ts';
import { enqueueAgent } from './runtime/queue.ts';
import { checkRepository, diffOf } from './runtime/worktree.ts';
import type { AgentStore } from './store/index.ts';

/** Rough tokens of a text (4 characters a token): enough to refuse a task that cannot fit its budget at all. */
const estimateTokens = (text: string): number => Math.ceil(text.length / 4);
/** Tokens of the fixed instructions and tool definitions sent with every first turn. */
const OPENING_OVERHEAD_TOKENS = 800;

/** Options of a spawn that only the module sets (swarms). */
export interface SpawnExtras {
  /** The agent's id (a swarm's agents: `<swarm>-<key>`, so a spawn repeated by two instances makes one agent). */
  id?: string;
  swarm?: { id: string; role: string; key: string };
  /** Events written with the row after its agents.agent.queued, only when the row is made (a swarm's step). */
  events?: readonly OutboxEvent[];
}

/** Spawn, list, pause, resume, kill, diff. */
export class AgentService {
  /** Called after an agent was killed (swarms advance on it). */
  readonly afterKill: ((agent: Agent) => Promise<void>)[] = [];

  constructor(
    readonly store: AgentStore,
    private readonly queue: JobQueue,
    private readonly llm: LlmClient,
    private readonly config: AgentsConfig,
    /** Checks a CLI runtime name (throws Invalid naming body.cli when unknown). */
    private readonly checkCli: (name: string | undefined) => void,
    /** Checks skill and tool names (throws Invalid naming body.skills.N or body.tools.allow.N when unknown). */
    private readonly checkNames: (input: SpawnInput) => Promise<void>,
  ) {}

  /** Checks the request, makes the agent row (queued) and its job; the worktree is made when a worker takes it. */
  async spawn(input: SpawnInput, extras: SpawnExtras = {}): Promise<Agent> {
    const made = await this.spawnOnce(input, extras);
    if (!made) throw new Conflict(`agent '${extras.id}' exists already`);
    return made;
  }

  /** Like spawn, but answers undefined when an agent with `extras.id` exists already (nothing is queued then). */
  async spawnOnce(input: SpawnInput, extras: SpawnExtras = {}): Promise<Agent | undefined> {
    const model = input.model ?? this.config.defaultModel;
    if (input.runtime === 'builtin') {
      if (!model) throw new Invalid('name a model (or set modules.agents.defaultModel)', [{ path: 'body.model', message: 'required' }]);
      try {
        this.llm.resolveModel(model);
      } catch (err) {
        throw new Invalid(`model '${model}': ${(err as Error).message}`, [{ path: 'body.model', message: (err as Error).message }]);
      }
    } else this.checkCli(input.cli);
    await this.checkNames(input);
    const { top, baseBranch } = await checkRepository(resolve(input.repo), input.baseBranch);
    if (input.budget.maxTokens !== undefined) {
      const need = estimateTokens(input.task + JSON.stringify(input.context ?? '')) + OPENING_OVERHEAD_TOKENS;
      if (need > input.budget.maxTokens) throw new Invalid(`the task alone needs about ${need} tokens, more than the budget`, [{ path: 'body.budget.maxTokens', message: `at least about ${need}` }]);
    }
    if (input.dependsOn.length > 0) {
      const known = await this.store.statuses(input.dependsOn);
      const issues = input.dependsOn.flatMap((d, i) => (known.has(d) ? [] : [{ path: `body.dependsOn.${i}`, message: `no agent '${d}'` }]));
      if (issues.length > 0) throw new Invalid('unknown dependencies', issues);
    }
    const limits = input.project ? this.config.projects[input.project] : undefined;
    if (input.project && (limits?.maxTokens || limits?.maxCost)) {
      const spent = await this.store.projectSpend(input.project);
      if ((limits.maxTokens && spent.tokens >= limits.maxTokens) || (limits.maxCost && spent.cost >= limits.maxCost)) throw new Conflict(`project '${input.project}' has spent its budget (${spent.tokens} tokens, cost ${spent.cost})`, { project: input.project, ...spent });
    }
    const id = extras.id ?? newId();
    const spec: AgentSpec = {
      task: input.task,
      runtime: input.runtime,
      cli: input.cli,
      model: model ?? '',
      budget: input.budget,
      tools: input.tools,
      skills: input.skills,
      labels: input.labels,
      priority: input.priority,
      maxTurns: input.maxTurns ?? this.config.maxTurns,
      wallClockMs: input.wallClockMs ?? this.config.wallClockMs,
      cleanup: input.cleanup ?? this.config.cleanup,
      dependsOn: input.dependsOn,
      project: input.project,
      retries: input.retries,
      retryBackoffMs: input.retryBackoffMs,
      context: input.context,
      swarm: extras.swarm,
    };
    // The row and agents.agent.queued are one statement (the kernel outbox).
    const queued = AgentQueued.outbox({ agentId: id, swarmId: extras.swarm?.id ?? null, reason: 'spawned' });
    const agent = await this.store.create({ id, repo: top, baseBranch, branch: branchOf(id), worktree: resolve(this.config.worktreesDir, id), spec, priority: PRIORITIES.indexOf(input.priority) + 1, swarmId: extras.swarm?.id }, [queued, ...(extras.events ?? [])]);
    if (!agent) return undefined;
    // Should this enqueue fail, the sweeper queues agents left waiting.
    await enqueueAgent(this.queue, id, input.priority, 'start');
    return agent;
  }

  /** Pauses between turns: a queued agent is parked, a running one stops after the turn in flight. */
  async pause(id: string): Promise<Agent> {
    const { swarmId } = await this.store.get(id);
    const a = await this.store.pause(id, AgentPauseRequested.outbox({ agentId: id, swarmId }));
    if (!a) throw await this.conflict(id, 'pause');
    return a;
  }

  /** Queues a paused agent again; it continues from its last saved turn. */
  async resume(id: string): Promise<Agent> {
    const { swarmId } = await this.store.get(id);
    const a = await this.store.resume(id, AgentQueued.outbox({ agentId: id, swarmId, reason: 'resumed' }));
    if (!a) throw await this.conflict(id, 'resume');
    await enqueueAgent(this.queue, id, a.spec.priority, `resume-e${a.epoch}-${Date.parse(a.updatedAt)}`);
    return a;
  }

  /** Kills an agent: the instance running it aborts its LLM call and kills its tool processes on the event. */
  async kill(id: string, reason = 'killed by request'): Promise<Agent> {
    // The kill and its event are one statement (the kernel outbox); the event is also what stops the instance running
    // the agent (and its heartbeat finds the status, should the event be late).
    const { swarmId } = await this.store.get(id);
    const a = await this.store.kill(id, reason, AgentKilled.outbox({ agentId: id, swarmId, reason }));
    if (!a) throw await this.conflict(id, 'kill');
    // A swarm moves on when one of its agents ends, killed ones included; a hook that fails is caught by the sweeper.
    for (const hook of this.afterKill) await hook(a).catch(() => undefined);
    return a;
  }

  /** The agent's changes against the commit its worktree was made from ('' before it started). */
  async diff(id: string): Promise<string> {
    const a = await this.store.get(id);
    if (!a.baseSha) return '';
    return diffOf(a.repo, a.worktree, a.baseSha, a.branch);
  }

  private async conflict(id: string, action: string): Promise<CapstanError> {
    const a = await this.store.get(id);
    return new Conflict(`cannot ${action} agent '${id}': it is ${a.status}${TERMINAL.has(a.status) ? ' (ended)' : ''}`, { status: a.status });
  }
}
