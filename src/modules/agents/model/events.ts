/** The agents module's typed events: `agents.agent.<verb>`, `agents.budget.<verb>`, `agents.safety.blocked`, `agents.swarm.<verb>`. */
import * as z from 'zod';
import { defineEvent } from '../../../kernel/index.ts';

const agent = { agentId: z.string(), swarmId: z.string().nullable().optional() };

/** An agent was queued (spawned, resumed, or recovered after its worker died). */
export const AgentQueued = defineEvent('agents.agent.queued', z.object({ ...agent, reason: z.string() }));
/** A worker took the agent and works on it in its worktree. */
export const AgentStarted = defineEvent('agents.agent.started', z.object({ ...agent, branch: z.string(), worktree: z.string(), turn: z.number().int() }));
/** One LLM turn (with its tool calls) is done and saved. */
export const AgentTurn = defineEvent('agents.agent.turn', z.object({ ...agent, turn: z.number().int(), tools: z.array(z.string()), tokens: z.number().int(), cost: z.number() }));
/** The agent paused between turns. */
export const AgentPaused = defineEvent('agents.agent.paused', z.object({ ...agent, turn: z.number().int() }));
/** The agent finished: its work is committed on its branch. */
export const AgentCompleted = defineEvent('agents.agent.completed', z.object({ ...agent, commitSha: z.string().nullable(), result: z.string(), cost: z.number() }));
/** The agent stopped with an error (budget, wall clock, turns, provider failure). */
export const AgentFailed = defineEvent('agents.agent.failed', z.object({ ...agent, reason: z.string() }));
/** The agent failed and runs again on a fresh worktree after `delayMs` (attempt counts retries, from 1). */
export const AgentRetrying = defineEvent('agents.agent.retrying', z.object({ ...agent, attempt: z.number().int(), reason: z.string(), delayMs: z.number().int(), failedBranch: z.string() }));
/** The agent was killed; the instance running it stops its LLM call and tool processes on this event. */
export const AgentKilled = defineEvent('agents.agent.killed', z.object({ ...agent, reason: z.string() }));
/** A control request (pause) for whichever instance runs the agent. */
export const AgentPauseRequested = defineEvent('agents.agent.pause_requested', z.object({ ...agent }));

const budget = { ...agent, tokens: z.number().int(), cost: z.number(), maxTokens: z.number().nullable(), maxCost: z.number().nullable() };
/** The agent spent the configured share (default 80 %) of its token or cost budget. */
export const BudgetWarning = defineEvent('agents.budget.warning', z.object(budget));
/**
 * A budget is spent; the agent is stopped (failed). With `project`, it is the project's budget (every agent of the
 * project together): tokens, cost and the limits are the project's.
 */
export const BudgetExceeded = defineEvent('agents.budget.exceeded', z.object({ ...budget, project: z.string().optional() }));
/** A tool call was refused by a safety rule; the same refusal is in the audit table. */
export const SafetyBlocked = defineEvent('agents.safety.blocked', z.object({ ...agent, tool: z.string(), rule: z.string(), detail: z.string() }));

const swarm = { swarmId: z.string(), name: z.string() };
/** A swarm was created and its first agents spawned. */
export const SwarmStarted = defineEvent('agents.swarm.started', z.object({ ...swarm, strategy: z.string() }));
/** A swarm moved on: a stage, the reduce step or a tree level began. */
export const SwarmStep = defineEvent('agents.swarm.step', z.object({ ...swarm, step: z.string(), agents: z.array(z.string()) }));
/** Every agent of the swarm is done and the result is stored. */
export const SwarmCompleted = defineEvent('agents.swarm.completed', z.object({ ...swarm, result: z.unknown() }));
/** The swarm stopped: an agent it depended on failed, or its budget is spent. */
export const SwarmFailed = defineEvent('agents.swarm.failed', z.object({ ...swarm, reason: z.string() }));
/** An autoscaled swarm's capacity (agents it may run at once) changed from `from` to `to`; `queued` agents were waiting. */
export const SwarmScaled = defineEvent('agents.swarm.scaled', z.object({ ...swarm, from: z.number().int(), to: z.number().int(), queued: z.number().int(), running: z.number().int() }));
/** A message on a swarm's channel (tool post_message). */
export const SwarmMessage = defineEvent('agents.swarm.message', z.object({ swarmId: z.string(), agentId: z.string(), role: z.string(), text: z.string() }));
