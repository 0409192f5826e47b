/**
 * One claimed agent on this worker: the worktree, a heartbeat, the wall-clock limit, the runtime's turns, and the end
 * (commit on the branch, artifacts, status, event, worktree cleanup). Writes name the claim's epoch; a worker that lost
 * the agent writes nothing more.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Clock, type JobQueue, type LlmClient, type Logger, type OutboxEvent, type Timer } from '../../../kernel/index.ts';
import type { AgentsConfig } from '../config.ts';
import type { Agent, AgentCheckpoint, AgentLogEntry, AgentStatus } from '../model/agent.ts';
import { AgentCompleted, AgentFailed, AgentPaused, AgentRetrying, AgentStarted, AgentTurn, BudgetExceeded, BudgetWarning, SafetyBlocked } from '../model/events.ts';
import type { AgentStore } from '../store/index.ts';
import type { AgentMetrics } from './metrics.ts';
import { compileDeny } from './command-policy.ts';
import { ProcessGroup } from './processes.ts';
import type { Refusal } from './refusal.ts';
import type { SwarmChannel, Tool, ToolContext } from './tools/index.ts';
import { commitAll, diffCommits, ensureWorktree, freshStartForRetry } from './worktree.ts';
import { enqueueAgent } from './queue.ts';

/**
 * The agent cannot go on; the message becomes its error. `final`: a retry could not help (a spent budget). `events` are
 * written with the agent's end (the failure's own announcements, such as a project's agents.budget.exceeded).
 */
export class AgentFailure extends Error {
  constructor(
    message: string,
    readonly final = false,
    readonly events: readonly OutboxEvent[] = [],
  ) {
    super(message);
  }
}

/** How a runtime's turns ended. */
export type RuntimeOutcome = { kind: 'finished'; result: string } | { kind: 'paused' } | { kind: 'requeued' };

/** A runtime: the built-in tool loop or an external CLI agent. */
export type Runtime = (run: AgentRun) => Promise<RuntimeOutcome>;

/** What an agent run needs from its worker. */
export interface RunDeps {
  store: AgentStore;
  /** Where a retry is queued. */
  queue: JobQueue;
  llm: LlmClient;
  log: Logger;
  config: AgentsConfig;
  clock: Clock;
  metrics: AgentMetrics;
  runtimes: Record<'builtin' | 'cli', Runtime>;
  /** The swarm channel of an agent that belongs to a swarm. */
  channel(agent: Agent): SwarmChannel | undefined;
  /** Called after the agent ended with its final status (cleanup, dependents, swarms). */
  ended(agent: Agent, status: AgentStatus): Promise<void>;
  /** Prompt lines about skills matched to the task (empty when none). */
  skillsPrompt(agent: Agent): Promise<string>;
  /** A skill's instructions by name. */
  skill(name: string): string | undefined;
  /** The tools of the loaded extensions. */
  extensionTools(): Tool[];
}

/** Why the run's signal was aborted. */
type StopReason = 'killed' | 'wall-clock' | 'shutdown' | 'fenced';

/** An agent being executed by this worker. */
export class AgentRun {
  readonly agent: Agent;
  messages: AgentCheckpoint['messages'];
  turn: number;
  readonly processes = new ProcessGroup();
  readonly tools: ToolContext;
  private readonly abort = new AbortController();
  private stopReason: StopReason | undefined;
  private timers: Timer[] = [];
  private pendingLogs: AgentLogEntry[] = [];
  /** Budget events of the turn in progress: written with the turn's save (the spend they announce), not before. */
  private pendingEvents: OutboxEvent[] = [];
  private spend = { tokensIn: 0, tokensOut: 0, cost: 0 };
  private warned: boolean;
  private exceeded: string | undefined;

  constructor(
    readonly deps: RunDeps,
    agent: Agent,
    checkpoint: AgentCheckpoint,
  ) {
    this.agent = agent;
    this.messages = checkpoint.messages;
    this.turn = checkpoint.turn;
    this.warned = agent.budgetWarned;
    const c = deps.config;
    this.tools = { agentId: agent.id, root: agent.worktree, deny: compileDeny(c.denyCommands), allowHosts: c.allowHosts, commandTimeoutMs: c.commandTimeoutMs, outputCapBytes: c.outputCapBytes, processes: this.processes, signal: this.abort.signal, swarm: deps.channel(agent), skill: (n) => deps.skill(n) };
  }

  /** Aborted when the agent is killed, runs out of wall clock, is fenced out, or the worker stops. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Stops at once: the in-flight LLM call is aborted and every tool process group is killed. */
  stop(reason: StopReason): void {
    this.stopReason ??= reason;
    this.abort.abort(new Error(reason));
    this.processes.killAll();
  }

  /** Tokens and cost spent so far, this run included. */
  get spent(): { tokens: number; cost: number } {
    return { tokens: this.agent.tokensIn + this.agent.tokensOut + this.spend.tokensIn + this.spend.tokensOut, cost: this.agent.cost + this.spend.cost };
  }

  /** Queues a log row for the next save. */
  log(entry: AgentLogEntry): void {
    this.pendingLogs.push(entry);
  }

  /**
   * Adds an LLM call's usage; marks the budget warned or exceeded (the run stops after saving the turn). The budget
   * event is written with the turn that spent it (saveTurn), in one statement.
   */
  async charge(tokensIn: number, tokensOut: number, cost: number | undefined): Promise<void> {
    this.spend.tokensIn += tokensIn;
    this.spend.tokensOut += tokensOut;
    this.spend.cost += cost ?? 0;
    this.deps.metrics.tokens.inc({ direction: 'input' }, tokensIn);
    this.deps.metrics.tokens.inc({ direction: 'output' }, tokensOut);
    if (cost) this.deps.metrics.cost.inc(cost);
    const { maxTokens, maxCost } = this.agent.spec.budget;
    const { tokens, cost: spentCost } = this.spent;
    const share = Math.max(maxTokens ? tokens / maxTokens : 0, maxCost ? spentCost / maxCost : 0);
    const data = { agentId: this.agent.id, swarmId: this.agent.swarmId, tokens, cost: spentCost, maxTokens: maxTokens ?? null, maxCost: maxCost ?? null };
    if (share >= 1) {
      this.exceeded = maxTokens && tokens >= maxTokens ? `token budget spent (${tokens} of ${maxTokens})` : `cost budget spent (${spentCost} of ${maxCost})`;
      this.pendingEvents.push(BudgetExceeded.outbox(data));
    } else if (share >= this.deps.config.budgetWarnAt && !this.warned) {
      this.warned = true;
      this.pendingEvents.push(BudgetWarning.outbox(data));
    }
    // The project's budget is charged with the same turn: its exceeded event is written with the turn that spent it.
    if (!this.exceeded) {
      const over = await this.projectOverrun({ tokens: this.spend.tokensIn + this.spend.tokensOut, cost: this.spend.cost });
      if (over) {
        this.exceeded = over.reason;
        this.pendingEvents.push(over.event);
      }
    }
  }

  /**
   * Refuses before a turn when the agent's own budget or its project's is already spent (a resumed agent, a project
   * spent by its other agents). Every runtime calls it before its turns: the built-in loop before each LLM call, an
   * external CLI before its program starts (between the program's turns, `charge` checks both).
   */
  async checkBudgets(): Promise<void> {
    const { maxTokens, maxCost } = this.agent.spec.budget;
    const { tokens, cost } = this.spent;
    if ((maxTokens && tokens >= maxTokens) || (maxCost && cost >= maxCost)) throw new AgentFailure(`budget spent (${tokens} tokens, cost ${cost})`, true);
    const over = await this.projectOverrun({ tokens: 0, cost: 0 });
    if (over) throw new AgentFailure(over.reason, true, [over.event]);
  }

  /**
   * Whether the agent's project has spent its budget (every agent of the project together: their saved spend plus
   * `unsaved`, this turn's spend not written yet), with the reason and its agents.budget.exceeded event.
   */
  private async projectOverrun(unsaved: { tokens: number; cost: number }): Promise<{ reason: string; event: OutboxEvent } | undefined> {
    const project = this.agent.spec.project;
    const limits = project ? this.deps.config.projects[project] : undefined;
    if (!project || !limits || (!limits.maxTokens && !limits.maxCost)) return undefined;
    const saved = await this.deps.store.projectSpend(project);
    const tokens = saved.tokens + unsaved.tokens;
    const cost = saved.cost + unsaved.cost;
    if (!((limits.maxTokens && tokens >= limits.maxTokens) || (limits.maxCost && cost >= limits.maxCost))) return undefined;
    return {
      reason: `project ${project} budget spent (${tokens} tokens, cost ${cost})`,
      event: BudgetExceeded.outbox({ agentId: this.agent.id, swarmId: this.agent.swarmId, project, tokens, cost, maxTokens: limits.maxTokens ?? null, maxCost: limits.maxCost ?? null }),
    };
  }

  /** Records a safety refusal: audit row, log row, event. */
  async refused(tool: string, r: Refusal): Promise<void> {
    this.deps.metrics.refusals.inc({ rule: r.rule });
    // The audit row and the event are one statement (the kernel outbox).
    await this.deps.store.audit(this.agent.id, tool, r.rule, r.message, SafetyBlocked.outbox({ agentId: this.agent.id, swarmId: this.agent.swarmId, tool, rule: r.rule, detail: r.message }));
    this.log({ turn: this.turn, kind: 'refused', content: { tool, rule: r.rule, detail: r.message } });
  }

  /**
   * Saves the turn (checkpoint, spend, logs) with its events (budget, agents.agent.turn) in one statement; returns the
   * agent's status now. Throws when fenced (nothing is written then, events included).
   */
  async saveTurn(toolNames: string[]): Promise<AgentStatus> {
    const events = [...this.pendingEvents, AgentTurn.outbox({ agentId: this.agent.id, swarmId: this.agent.swarmId, turn: this.turn, tools: toolNames, tokens: this.spent.tokens, cost: this.spent.cost })];
    const status = await this.deps.store.saveTurn(this.agent.id, this.agent.epoch, { checkpoint: { turn: this.turn, messages: this.messages }, ...this.spend, budgetWarned: this.warned, logs: this.pendingLogs }, events);
    if (!status) {
      this.stop('fenced');
      throw new AgentFailure('fenced out: the agent was killed, or resumed by another worker');
    }
    this.agent.tokensIn += this.spend.tokensIn;
    this.agent.tokensOut += this.spend.tokensOut;
    this.agent.cost += this.spend.cost;
    this.spend = { tokensIn: 0, tokensOut: 0, cost: 0 };
    this.pendingLogs = [];
    this.pendingEvents = [];
    this.deps.metrics.turns.inc();
    if (this.exceeded) throw new AgentFailure(this.exceeded, true);
    return status;
  }

  /** The first messages of a fresh run: instructions, skills, the task and its context. */
  async openingMessages(): Promise<AgentCheckpoint['messages']> {
    const spec = this.agent.spec;
    const skills = await this.deps.skillsPrompt(this.agent);
    const system = [
      'You are a coding agent working in a git worktree of a repository. Use the tools to read and change files and to run programs (argv arrays, no shell).',
      'Paths are relative to the worktree; paths outside it are refused. When the task is done, call finish with a short summary: your changes are then committed on your branch.',
      spec.swarm ? `You are part of swarm ${spec.swarm.id} as ${spec.swarm.role}; post_message and read_messages talk to the other agents.` : '',
      skills,
    ].filter(Boolean);
    const user = spec.context === undefined ? spec.task : `${spec.task}\n\nContext:\n${typeof spec.context === 'string' ? spec.context : JSON.stringify(spec.context, null, 2)}`;
    return [
      { role: 'system', content: system.join('\n\n') },
      { role: 'user', content: user },
    ];
  }

  /** Runs the agent from its checkpoint to the end of its turns (or a pause). Returns what happened, for the job's result. */
  async execute(): Promise<string> {
    const d = this.deps;
    const a = this.agent;
    this.timers.push(d.clock.setInterval(() => void this.beat(), d.config.heartbeatMs));
    const started = a.startedAt ? Date.parse(a.startedAt) : d.clock.now();
    this.timers.push(d.clock.setTimeout(() => this.stop('wall-clock'), Math.max(0, a.spec.wallClockMs - (d.clock.now() - started))));
    d.metrics.running.inc();
    try {
      const base = await ensureWorktree(a.repo, a.worktree, a.branch, a.baseBranch);
      // The base commit (first start) and agents.agent.started are one statement; fenced out, neither is written.
      if (!(await d.store.started(a.id, a.epoch, base, AgentStarted.outbox({ agentId: a.id, swarmId: a.swarmId, branch: a.branch, worktree: a.worktree, turn: this.turn })))) {
        this.stop('fenced');
        return 'fenced';
      }
      a.baseSha ??= base;
      const outcome = await d.runtimes[a.spec.runtime](this);
      if (outcome.kind === 'paused') {
        await d.store.parked(a.id, a.epoch, AgentPaused.outbox({ agentId: a.id, swarmId: a.swarmId, turn: this.turn }));
        return 'paused';
      }
      if (outcome.kind === 'requeued') return 'requeued';
      return await this.end('completed', outcome.result);
    } catch (err) {
      if (this.stopReason === 'killed' || this.stopReason === 'fenced') return this.stopReason;
      if (this.stopReason === 'shutdown') {
        await d.store.requeue(a.id, a.epoch).catch(() => undefined);
        return 'left for another worker';
      }
      const reason = this.stopReason === 'wall-clock' ? `wall-clock limit of ${a.spec.wallClockMs} ms reached` : err instanceof AgentFailure ? err.message : `${(err as Error).name}: ${(err as Error).message}`;
      if (!(err instanceof AgentFailure) && this.stopReason !== 'wall-clock') d.log.warn({ err, agentId: a.id }, 'agent failed');
      return await this.end('failed', reason, !(err instanceof AgentFailure && err.final), err instanceof AgentFailure ? err.events : []);
    } finally {
      d.metrics.running.dec();
      for (const t of this.timers) t.cancel();
      this.processes.killAll();
    }
  }

  /**
   * Commits what is in the worktree, writes the artifacts, records the end and announces it; a failure with retries
   * left is queued again instead (after its backoff, on a fresh worktree), and nothing waiting on the agent moves yet.
   */
  private async end(status: 'completed' | 'failed', text: string, retryable = false, failureEvents: readonly OutboxEvent[] = []): Promise<string> {
    const d = this.deps;
    const a = this.agent;
    let commitSha: string | null = null;
    try {
      const firstLine = a.spec.task.split('\n')[0]!.slice(0, 72);
      const c = await commitAll(a.worktree, `${status === 'completed' ? '' : '[failed] '}agent ${a.id}: ${firstLine}\n\n${text}\n`);
      commitSha = c.committed ? c.sha : null;
      const dir = resolve(d.config.artifactsDir, a.id);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'result.md'), `# ${status}\n\n${text}\n`);
      // Everything is committed now: the diff is between two commits (one git process instead of two).
      if (a.baseSha) writeFileSync(join(dir, 'diff.patch'), await diffCommits(a.repo, a.baseSha, c.sha));
    } catch (err) {
      d.log.warn({ err, agentId: a.id }, 'agent commit or artifacts failed');
      if (status === 'completed') {
        status = 'failed';
        text = `could not commit the work: ${(err as Error).message}`;
      }
    }
    if (status === 'failed' && retryable && a.attempt < (a.spec.retries ?? 0) && a.baseSha) {
      const retried = await this.retry(text);
      if (retried) return retried;
    }
    if (this.pendingLogs.length > 0) await d.store.log(a.id, this.pendingLogs);
    // The end event is written with the end (the outbox), so no crash between the two can lose it.
    const event = status === 'completed' ? AgentCompleted.outbox({ agentId: a.id, swarmId: a.swarmId, commitSha, result: text, cost: this.spent.cost }) : AgentFailed.outbox({ agentId: a.id, swarmId: a.swarmId, reason: text });
    const events = status === 'failed' ? [...failureEvents, event] : [event];
    const ok = await d.store.finish(a.id, a.epoch, status, status === 'completed' ? { result: text, commitSha } : { error: text, commitSha }, events);
    if (!ok) return 'fenced';
    d.metrics.ended.inc({ status });
    await d.ended(a, status);
    return status;
  }

  /** Queues the next attempt: the failed one stays as branch `<branch>-attempt-<n>`; undefined when it could not. */
  private async retry(reason: string): Promise<string | undefined> {
    const d = this.deps;
    const a = this.agent;
    const next = a.attempt + 1;
    const failedBranch = `${a.branch}-attempt-${next}`;
    const delayMs = (a.spec.retryBackoffMs ?? 0) * 2 ** a.attempt;
    try {
      // Git first: should this process die before the row says queued, the sweeper resumes the agent, never a stale worktree as a fresh one.
      await freshStartForRetry(a.repo, a.worktree, a.branch, a.baseSha!, failedBranch);
    } catch (err) {
      d.log.warn({ err, agentId: a.id }, 'could not prepare a fresh worktree for the retry; the agent fails');
      return undefined;
    }
    this.log({ turn: this.turn, kind: 'status', content: { retry: next, of: a.spec.retries, reason, delayMs, failedBranch } });
    await d.store.log(a.id, this.pendingLogs);
    this.pendingLogs = [];
    // The row's attempt is a.attempt + 1 after this write (the epoch fences every other writer), so the event can say so.
    const attempt = await d.store.retry(a.id, a.epoch, reason, delayMs, AgentRetrying.outbox({ agentId: a.id, swarmId: a.swarmId, attempt: next, reason, delayMs, failedBranch }));
    if (attempt === undefined) return 'fenced';
    await enqueueAgent(d.queue, a.id, a.spec.priority, `retry-${attempt}`, delayMs);
    return `retrying (${attempt} of ${a.spec.retries})`;
  }

  private async beat(): Promise<void> {
    try {
      if (!(await this.deps.store.heartbeat(this.agent.id, this.agent.epoch)) && !this.abort.signal.aborted) {
        // Paused agents finish their turn; anything else (killed, resumed elsewhere) stops now.
        const now = await this.deps.store.get(this.agent.id);
        if (now.status !== 'paused') this.stop(now.status === 'killed' ? 'killed' : 'fenced');
      }
    } catch (err) {
      this.deps.log.warn({ err, agentId: this.agent.id }, 'agent heartbeat failed');
    }
  }
}
