/** The agents module's tables (prefix `agents_`): agents, their logs, the safety audit, swarms and swarm channels. */
import { sql } from 'drizzle-orm';
import { bigserial, boolean, check, doublePrecision, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/**
 * One row per agent. `epoch` fences workers: a worker claims the agent by raising it and every later write names it,
 * so a worker presumed dead (its heartbeat lapsed, the agent resumed elsewhere) cannot write again.
 * `messages` and `turn` are the checkpoint a resumed agent continues from.
 */
export const agentsAgents = pgTable(
  'agents_agents',
  {
    id: text('id').primaryKey(),
    status: text('status').notNull(),
    repo: text('repo').notNull(),
    baseBranch: text('base_branch').notNull(),
    baseSha: text('base_sha'),
    branch: text('branch').notNull(),
    worktree: text('worktree').notNull(),
    spec: jsonb('spec').notNull(),
    priority: integer('priority').notNull().default(3),
    turn: integer('turn').notNull().default(0),
    messages: jsonb('messages').notNull().default([]),
    result: text('result'),
    error: text('error'),
    commitSha: text('commit_sha'),
    tokensIn: integer('tokens_in').notNull().default(0),
    tokensOut: integer('tokens_out').notNull().default(0),
    cost: doublePrecision('cost').notNull().default(0),
    budgetWarned: boolean('budget_warned').notNull().default(false),
    owner: text('owner'),
    epoch: integer('epoch').notNull().default(0),
    recoveries: integer('recoveries').notNull().default(0),
    /** Retries of a failed task used so far (spec.retries bounds it); each ran on a fresh worktree. */
    attempt: integer('attempt').notNull().default(0),
    swarmId: text('swarm_id'),
    heartbeatAt: ts('heartbeat_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    check('agents_agents_status_check', sql`status IN ('queued', 'running', 'paused', 'completed', 'failed', 'killed')`),
    index('agents_agents_created_idx').on(t.createdAt, t.id),
    index('agents_agents_status_idx').on(t.status, t.heartbeatAt),
    index('agents_agents_swarm_idx').on(t.swarmId),
  ],
);

/** Every turn, tool call, refusal and state change of an agent, in order. */
export const agentsLogs = pgTable(
  'agents_logs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    agentId: text('agent_id').notNull(),
    turn: integer('turn').notNull(),
    kind: text('kind').notNull(),
    content: jsonb('content'),
    tokensIn: integer('tokens_in'),
    tokensOut: integer('tokens_out'),
    cost: doublePrecision('cost'),
    durationMs: integer('duration_ms'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('agents_logs_agent_idx').on(t.agentId, t.id)],
);

/** Refusals by a safety rule (path escape, denied command, denied tool, host not allowed): kept for audit. */
export const agentsAudit = pgTable(
  'agents_audit',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    agentId: text('agent_id').notNull(),
    tool: text('tool').notNull(),
    rule: text('rule').notNull(),
    detail: text('detail').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('agents_audit_agent_idx').on(t.agentId, t.id)],
);

/** One row per swarm: its definition, where it is, its result. */
export const agentsSwarms = pgTable(
  'agents_swarms',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    strategy: text('strategy').notNull(),
    spec: jsonb('spec').notNull(),
    status: text('status').notNull(),
    /** Strategy state: the stage or tree level reached, the agents of each step. */
    state: jsonb('state').notNull().default({}),
    result: jsonb('result'),
    error: text('error'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
  },
  (t) => [check('agents_swarms_status_check', sql`status IN ('running', 'completed', 'failed', 'killed')`), index('agents_swarms_created_idx').on(t.createdAt, t.id)],
);

/** A swarm's channel: notes its agents post for each other (tools post_message and read_messages). */
export const agentsMessages = pgTable(
  'agents_messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    swarmId: text('swarm_id').notNull(),
    agentId: text('agent_id').notNull(),
    role: text('role').notNull(),
    text: text('text').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('agents_messages_swarm_idx').on(t.swarmId, t.id)],
);
