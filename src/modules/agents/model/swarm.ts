/** A swarm: a definition (strategy, tasks, agent template, limits) and the plan a strategy makes from its agents' states. */
import * as z from 'zod';
import { storableText } from '../../../kernel/index.ts';
import { budgetSchema, spawnSchema, type AgentStatus } from './agent.ts';

/** The four strategies. */
export const STRATEGIES = ['parallel', 'pipeline', 'map-reduce', 'tree'] as const;

const task = storableText(z.string().min(1).max(100_000));

/** What every agent of the swarm shares (a spawn body without task, repo and the swarm's own fields). */
export const templateSchema = spawnSchema.pick({ runtime: true, cli: true, model: true, budget: true, tools: true, skills: true, labels: true, priority: true, maxTurns: true, wallClockMs: true, cleanup: true, retries: true, retryBackoffMs: true, project: true }).partial().default({});

/** A swarm definition (YAML or JSON); snake_case keys as in swarm.yaml files. */
export const swarmSchema = z
  .strictObject({
    name: storableText(z.string().min(1).max(200)),
    strategy: z.enum(STRATEGIES),
    repo: storableText(z.string().min(1).max(4_096)),
    baseBranch: z.string().min(1).max(200).optional(),
    /** parallel: the task every agent gets; map-reduce: the task a splitter agent splits; tree: the root task. */
    task: task.optional(),
    /** parallel: one agent per task; pipeline: the stages in order; map-reduce: the split done by rule (no splitter agent). */
    tasks: z.array(task).min(1).max(1_000).optional(),
    /** parallel with `task`: how many agents. */
    agents: z.number().int().min(1).max(1_000).optional(),
    /** map-reduce: what the reducer is asked to do with the mappers' results. */
    reduce: task.optional(),
    /** tree: how deep planners may decompose (the root is depth 0), and how many children each may have. */
    depth: z.number().int().min(0).max(5).default(2),
    max_children: z.number().int().min(1).max(20).default(5),
    template: templateSchema,
    /** Agents of this swarm not ended at a time (default 10); give this or `autoscale`, not both. */
    max_concurrency: z.number().int().min(1).max(10_000).optional(),
    /**
     * Agents of this swarm running at once follow its queued work between min and max: every planned agent is queued
     * at once, and at most clamp(queued + running, min, max) of them run (see docs/agents.md, Autoscaling).
     */
    autoscale: z.strictObject({ min: z.number().int().min(1).max(10_000), max: z.number().int().min(1).max(10_000) }).optional(),
    budget: budgetSchema.default({}),
  })
  .superRefine((s, ctx) => {
    const need = (field: 'task' | 'tasks', why: string) => ctx.addIssue({ code: 'custom', path: [field], message: why });
    if (s.autoscale && s.autoscale.min > s.autoscale.max) ctx.addIssue({ code: 'custom', path: ['autoscale', 'min'], message: `min (${s.autoscale.min}) must not exceed max (${s.autoscale.max})` });
    if (s.autoscale && s.max_concurrency !== undefined) ctx.addIssue({ code: 'custom', path: ['max_concurrency'], message: 'give max_concurrency or autoscale, not both' });
    if (s.strategy === 'parallel' && !s.task && !s.tasks) need('task', 'parallel needs task (with agents) or tasks');
    if (s.strategy === 'parallel' && s.task && s.tasks) need('tasks', 'give task or tasks, not both');
    if (s.strategy === 'pipeline' && !s.tasks) need('tasks', 'pipeline needs tasks: one per stage');
    if (s.strategy === 'map-reduce' && !s.task && !s.tasks) need('task', 'map-reduce needs task (split by an agent) or tasks (already split)');
    if (s.strategy === 'tree' && !s.task) need('task', 'tree needs the root task');
  });

/** A checked swarm definition. */
export type SwarmSpec = z.output<typeof swarmSchema>;

/** max_concurrency when a definition gives neither it nor autoscale. */
export const DEFAULT_MAX_CONCURRENCY = 10;

/**
 * The autoscaling rule: how many of a swarm's agents may run at once, given its queued and running agents. Demand is
 * queued + running; the capacity follows it, never below min (the slots the swarm keeps) nor above max.
 */
export function swarmCapacity(queued: number, running: number, scale: { min: number; max: number }): number {
  return Math.min(scale.max, Math.max(scale.min, queued + running));
}

/** Swarm statuses. */
export type SwarmStatus = 'running' | 'completed' | 'failed' | 'killed';

/** A swarm as stored. */
export interface Swarm {
  id: string;
  name: string;
  strategy: SwarmSpec['strategy'];
  spec: SwarmSpec;
  status: SwarmStatus;
  result: unknown;
  error: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  /** Autoscaled swarms: the capacity last decided (null before the first decision, and without autoscale). */
  capacity: number | null;
}

/** One agent of the swarm as a strategy sees it, by its key (`p0`, `s1`, `split`, `m3`, `reduce`, `t0-2`...). */
export interface SwarmNode {
  key: string;
  id: string;
  status: AgentStatus;
  result: string | null;
  error: string | null;
  branch: string;
  commitSha: string | null;
}

/** An agent a strategy wants: its key, role, task and what it builds on. */
export interface AgentPlan {
  key: string;
  role: string;
  task: string;
  context?: unknown;
  /** Start from this branch instead of the swarm's base (a pipeline stage builds on the previous stage's branch). */
  baseBranch?: string;
}

/** What a strategy answers: agents to start (when not started yet), or the swarm's end. */
export interface SwarmPlan {
  spawn: AgentPlan[];
  done?: { status: 'completed' | 'failed'; result: unknown; error?: string };
}

/** A strategy: a pure function of the definition and the agents so far. */
export type Strategy = (spec: SwarmSpec, nodes: Map<string, SwarmNode>) => SwarmPlan;

/** What the API shows of one agent's outcome in a swarm result. */
export const outcome = (n: SwarmNode) => ({ key: n.key, agentId: n.id, status: n.status, result: n.result, error: n.error, branch: n.branch, commitSha: n.commitSha });

/** Reads a list of subtasks from an agent's final summary: a JSON array of strings (anywhere in the text), else (unless `jsonOnly`) `- ` lines. */
export function subtasksOf(text: string | null, max: number, jsonOnly = false): string[] {
  if (!text) return [];
  const start = text.indexOf('[');
  const end = text.lastIndexOf(']');
  if (start >= 0 && end > start) {
    try {
      const v = JSON.parse(text.slice(start, end + 1)) as unknown;
      if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && x.trim().length > 0).slice(0, max);
    } catch {
      // Not JSON: try lines.
    }
  }
  if (jsonOnly) return [];
  return text
    .split('\n')
    .map((l) => /^\s*(?:[-*]|\d+[.)])\s+(.+)$/.exec(l)?.[1]?.trim())
    .filter((x): x is string => Boolean(x))
    .slice(0, max);
}
