/** An agent: what a spawn asks for, and the record the store keeps while it runs and after. */
import * as z from 'zod';
import { storableJson, storableText, type ChatMessage } from '../../../kernel/index.ts';

/** Lifecycle: queued -> running <-> paused -> completed | failed | killed. */
export const AGENT_STATUSES = ['queued', 'running', 'paused', 'completed', 'failed', 'killed'] as const;
/** One of AGENT_STATUSES. */
export type AgentStatus = (typeof AGENT_STATUSES)[number];
/** Statuses an agent never leaves. */
export const TERMINAL: ReadonlySet<AgentStatus> = new Set(['completed', 'failed', 'killed']);

/** Task priorities, highest first; a queue job's priority number is the index + 1. */
export const PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;
/** One of PRIORITIES. */
export type Priority = (typeof PRIORITIES)[number];

/** Names of the built-in tools (swarm tools are added for agents of a swarm). */
export const BUILTIN_TOOLS = ['read_file', 'write_file', 'edit_file', 'list_files', 'search', 'run_command', 'fetch_url', 'read_skill', 'finish', 'post_message', 'read_messages'] as const;

/** A built-in tool's name or an extension's (which must be loaded when the agent is spawned: the service checks). */
const toolName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'a tool name: lower-case letters, digits and _');
const branchName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+$/, 'a branch name: letters, digits, . _ / -, not starting with -, no ..');

/** Token and cost limits of one agent (or swarm); either may be absent. */
export const budgetSchema = z.strictObject({
  maxTokens: z.number().int().positive().optional(),
  maxCost: z.number().positive().optional(),
});

/** The body of a spawn: everything but `task` and `repo` has a default. */
export const spawnSchema = z.strictObject({
  task: storableText(z.string().min(1).max(100_000)),
  /** Path of a git repository on the server's machine (a shared folder in distributed mode). */
  repo: storableText(z.string().min(1).max(4_096)),
  baseBranch: branchName.optional(),
  runtime: z.enum(['builtin', 'cli']).default('builtin'),
  /** For runtime `cli`: the name of a command template in `modules.agents.cliRuntimes`. */
  cli: z.string().min(1).max(100).optional(),
  model: storableText(z.string().min(1).max(200)).optional(),
  budget: budgetSchema.default({}),
  tools: z.strictObject({ allow: z.array(toolName).optional(), deny: z.array(toolName).default([]) }).default({ deny: [] }),
  skills: z.array(z.string().min(1).max(100)).max(50).default([]),
  labels: z.record(z.string().min(1).max(100), storableText(z.string().max(500))).default({}),
  priority: z.enum(PRIORITIES).default('normal'),
  maxTurns: z.number().int().min(1).max(10_000).optional(),
  wallClockMs: z.number().int().min(100).optional(),
  cleanup: z.enum(['immediate', 'on-success', 'delay', 'manual']).optional(),
  /** The project the agent counts against (modules.agents.projects limits its running agents and its spend). */
  project: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a project name: letters, digits, . _ -').optional(),
  /** Runs again on a fresh worktree after a failure (not after a kill or a spent budget), up to this many times. */
  retries: z.number().int().min(0).max(20).default(0),
  /** Wait before the first retry; doubled for each later one. */
  retryBackoffMs: z.number().int().min(0).max(3_600_000).default(1_000),
  /** Agents that must complete before this one starts (a task's dependencies). */
  dependsOn: z.array(z.string().min(1).max(100)).max(100).default([]),
  /** Extra context appended to the task (a swarm hands a stage its predecessor's output this way). */
  context: storableJson.optional(),
});

/** A checked spawn body. */
export type SpawnInput = z.output<typeof spawnSchema>;

/** What is fixed at spawn and never changes. */
export interface AgentSpec {
  task: string;
  runtime: 'builtin' | 'cli';
  cli?: string;
  model: string;
  budget: { maxTokens?: number; maxCost?: number };
  tools: { allow?: string[]; deny: string[] };
  skills: string[];
  labels: Record<string, string>;
  priority: Priority;
  maxTurns: number;
  wallClockMs: number;
  cleanup: 'immediate' | 'on-success' | 'delay' | 'manual';
  dependsOn: string[];
  project?: string;
  /** Absent in agents spawned before retries existed: 0. */
  retries?: number;
  retryBackoffMs?: number;
  context?: unknown;
  /** Set for agents of a swarm: the channel they talk on and their role in it. */
  swarm?: { id: string; role: string; key: string; maxRunning?: number };
}

/** An agent as stored. */
export interface Agent {
  id: string;
  status: AgentStatus;
  repo: string;
  baseBranch: string;
  baseSha: string | null;
  branch: string;
  worktree: string;
  spec: AgentSpec;
  turn: number;
  result: string | null;
  error: string | null;
  commitSha: string | null;
  tokensIn: number;
  tokensOut: number;
  cost: number;
  budgetWarned: boolean;
  owner: string | null;
  epoch: number;
  recoveries: number;
  /** Retries used (0 on the first attempt). */
  attempt: number;
  swarmId: string | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** What a run saves after each turn so another worker can continue from it. */
export interface AgentCheckpoint {
  turn: number;
  messages: ChatMessage[];
}

/** One row of an agent's log: an LLM turn, a tool call, a refusal, a state change. */
export interface AgentLogEntry {
  turn: number;
  kind: 'assistant' | 'tool' | 'refused' | 'status' | 'error' | 'output';
  content: unknown;
  tokensIn?: number;
  tokensOut?: number;
  cost?: number | null;
  durationMs?: number;
}

/** The branch an agent works on. */
export const branchOf = (id: string): string => `capstan/agent-${id}`;
