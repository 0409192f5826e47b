/** The cascades module's tables (prefix `cascades_`): definitions, sessions, checkpoints, logs, costs, human checkpoints, artifacts. */
import { sql } from 'drizzle-orm';
import { bigserial, boolean, check, customType, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/** Saved cascade definitions, by cascade_id; a run copies the spec, so later edits never change running sessions. */
export const cascadesDefinitions = pgTable('cascades_definitions', {
  cascadeId: text('cascade_id').primaryKey(),
  spec: jsonb('spec').notNull(),
  version: integer('version').notNull().default(1),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/**
 * One session per run. `epoch` fences workers: a worker claims the session by raising it and every later write
 * names it, so a worker that lost the session (presumed dead, cancelled) cannot write again.
 */
export const cascadesSessions = pgTable(
  'cascades_sessions',
  {
    id: text('id').primaryKey(),
    cascadeId: text('cascade_id').notNull(),
    spec: jsonb('spec').notNull(),
    status: text('status').notNull(),
    currentPhase: text('current_phase'),
    inputs: jsonb('inputs').notNull(),
    state: jsonb('state').notNull().default({}),
    outputs: jsonb('outputs').notNull().default({}),
    /** Names of completed phases in the order they completed. */
    completed: jsonb('completed').notNull().default([]),
    /** Signals (audibles) sent to the session and not yet read by its worker. */
    signals: jsonb('signals').notNull().default([]),
    error: text('error'),
    cost: doublePrecision('cost').notNull().default(0),
    tokensIn: integer('tokens_in').notNull().default(0),
    tokensOut: integer('tokens_out').notNull().default(0),
    owner: text('owner'),
    epoch: integer('epoch').notNull().default(0),
    recoveries: integer('recoveries').notNull().default(0),
    heartbeatAt: ts('heartbeat_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
    /** The session that started this one (for_each_row, run_cascade, async_cascades, a cascade validator). */
    parentSessionId: text('parent_session_id'),
    /** Fire-and-forget (async_cascades): the parent does not wait; the result is logged on it. */
    detached: boolean('detached').notNull().default(false),
    /** 0 for a session started by a user; a child is one deeper than its parent (bounded, so a cascade cannot start itself forever). */
    depth: integer('depth').notNull().default(0),
    /**
     * Set while the session is blocked on its children: it is woken (status 'starting') once fewer than this many of
     * its waited-for children are still running.
     */
    waitingChildren: integer('waiting_children'),
  },
  (t) => [
    check('cascades_sessions_status_check', sql`status IN ('starting', 'running', 'blocked', 'completed', 'error', 'cancelled', 'orphaned')`),
    index('cascades_sessions_created_idx').on(t.createdAt, t.id),
    index('cascades_sessions_status_idx').on(t.status, t.heartbeatAt),
    index('cascades_sessions_parent_idx').on(t.parentSessionId).where(sql`parent_session_id IS NOT NULL`),
    index('cascades_sessions_waiting_idx').on(t.status).where(sql`waiting_children IS NOT NULL`),
  ],
);

/** State after every phase and turn: where the session is, its state and outputs, and the current phase's messages. */
export const cascadesCheckpoints = pgTable(
  'cascades_checkpoints',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sessionId: text('session_id').notNull(),
    phase: text('phase'),
    turn: integer('turn').notNull(),
    kind: text('kind').notNull(),
    data: jsonb('data').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('cascades_checkpoints_session_idx').on(t.sessionId, t.id)],
);

/** The unified log: one row per message, tool call, validation, sounding attempt or error. */
export const cascadesLogs = pgTable(
  'cascades_logs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sessionId: text('session_id').notNull(),
    phase: text('phase'),
    turn: integer('turn'),
    soundingIndex: integer('sounding_index'),
    winner: text('winner'),
    kind: text('kind').notNull(),
    model: text('model'),
    tokensIn: integer('tokens_in'),
    tokensOut: integer('tokens_out'),
    cost: doublePrecision('cost'),
    durationMs: integer('duration_ms'),
    content: jsonb('content'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('cascades_logs_session_idx').on(t.sessionId, t.id)],
);

/** One row per LLM call: what it cost. */
export const cascadesCosts = pgTable(
  'cascades_costs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    sessionId: text('session_id').notNull(),
    phase: text('phase'),
    model: text('model').notNull(),
    tokensIn: integer('tokens_in').notNull(),
    tokensOut: integer('tokens_out').notNull(),
    cost: doublePrecision('cost'),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('cascades_costs_session_idx').on(t.sessionId)],
);

/** Questions to a person: a session waits (blocked) on a pending one until it is answered or times out. */
export const cascadesHumanCheckpoints = pgTable(
  'cascades_human_checkpoints',
  {
    id: text('id').primaryKey(),
    sessionId: text('session_id').notNull(),
    phase: text('phase').notNull(),
    prompt: text('prompt').notNull(),
    status: text('status').notNull(),
    response: jsonb('response'),
    onTimeout: text('on_timeout').notNull(),
    expiresAt: ts('expires_at'),
    createdAt: ts('created_at').notNull().defaultNow(),
    answeredAt: ts('answered_at'),
  },
  (t) => [
    check('cascades_human_checkpoints_status_check', sql`status IN ('pending', 'answered', 'timed_out', 'cancelled')`),
    index('cascades_human_checkpoints_pending_idx').on(t.status, t.expiresAt),
    index('cascades_human_checkpoints_session_idx').on(t.sessionId),
  ],
);

/**
 * The per-session data schemas of data phases (sql, for_each_row results, the sql tool): a PostgreSQL schema and a
 * NOLOGIN role that may use only it. The sweeper drops both once the session has ended longer than `dataTtlMs`.
 */
export const cascadesDataSchemas = pgTable('cascades_data_schemas', {
  sessionId: text('session_id').primaryKey(),
  schemaName: text('schema_name').notNull(),
  roleName: text('role_name').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

const bytea = customType<{ data: Uint8Array }>({ dataType: () => 'bytea' });

/**
 * Files a session made (the browser tool's screenshots), kept in the database so that any instance serves them and
 * the retention cleanup deletes them with their session.
 */
export const cascadesArtifacts = pgTable(
  'cascades_artifacts',
  {
    sessionId: text('session_id').notNull(),
    name: text('name').notNull(),
    contentType: text('content_type').notNull(),
    size: integer('size').notNull(),
    bytes: bytea('bytes').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ name: 'cascades_artifacts_pk', columns: [t.sessionId, t.name] })],
);
