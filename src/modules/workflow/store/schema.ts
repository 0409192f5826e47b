/** The workflow module's tables (prefix `workflow_`): definitions, runs, their history, pending timeouts and trigger keys. */
import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { ACTIVE_RUN_STATES, RUN_STATES, type RunState } from '../model/run-state.ts';

// Millisecond precision: JS Dates carry milliseconds, so a created_at read back and sent again as a keyset
// cursor or filter compares exactly (microseconds would make a page boundary skip or repeat rows).
const ms = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/** The SQL predicate of an active run; the partial unique index and the insert's ON CONFLICT must use the same text. */
export const ACTIVE_RUN_PREDICATE = `run_state IN (${ACTIVE_RUN_STATES.map((s) => `'${s}'`).join(', ')})`;

// Pending = neither fired nor cancelled; the expiry poller and the cancel path only ever look at these.
// A typo'd run state written by hand (or by a future bug) is refused by the database itself.
const KNOWN_RUN_STATE = sql.raw(`run_state IN (${RUN_STATES.map((s) => `'${s}'`).join(', ')})`);

const PENDING_TIMEOUT_PREDICATE = 'completed_at IS NULL AND cancelled_at IS NULL';

/** Workflow definitions as submitted (YAML/JSON parsed to `spec`); `version` goes up on every save. */
export const workflowDefinitions = pgTable('workflow_definitions', {
  name: text('name').primaryKey(),
  kind: text('kind').notNull(),
  spec: jsonb('spec').notNull(),
  version: integer('version').notNull().default(1),
  createdAt: ms('created_at').notNull().defaultNow(),
  updatedAt: ms('updated_at').notNull().defaultNow(),
});

/** One row per run; `version` is the compare-and-set token, incremented by every change. */
export const workflowRuns = pgTable(
  'workflow_runs',
  {
    runId: text('run_id').primaryKey(),
    workflow: text('workflow').notNull(),
    foreignId: text('foreign_id').notNull(),
    runState: text('run_state').$type<RunState>().notNull(),
    status: text('status').notNull(),
    object: jsonb('object'),
    version: integer('version').notNull(),
    statusDescription: text('status_description'),
    reason: text('reason'),
    createdAt: ms('created_at').notNull().defaultNow(),
    updatedAt: ms('updated_at').notNull().defaultNow(),
  },
  (t) => [
    // The database, not the application, guarantees one active run per (workflow, foreignId).
    uniqueIndex('workflow_runs_one_active_idx').on(t.workflow, t.foreignId).where(sql.raw(ACTIVE_RUN_PREDICATE)),
    // Keyset pagination of the run list in both directions.
    index('workflow_runs_created_idx').on(t.createdAt, t.runId),
    // List filters and the step consumers' catch-up sweep of runs at a status.
    index('workflow_runs_workflow_status_idx').on(t.workflow, t.status),
    // latest(workflow, foreignId), finished runs included.
    index('workflow_runs_foreign_idx').on(t.workflow, t.foreignId, t.createdAt, t.runId),
    // The sweep that retries paused runs after a delay.
    index('workflow_runs_paused_idx').on(t.updatedAt).where(sql.raw(`run_state = 'paused'`)),
    check('workflow_runs_run_state_check', KNOWN_RUN_STATE),
  ],
);

/** Every state a run has been in, appended in the same transaction as the change; `object` only when it changed. */
export const workflowHistory = pgTable(
  'workflow_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: text('run_id').notNull(),
    version: integer('version').notNull(),
    status: text('status').notNull(),
    runState: text('run_state').$type<RunState>().notNull(),
    statusDescription: text('status_description'),
    reason: text('reason'),
    object: jsonb('object'),
    createdAt: ms('created_at').notNull().defaultNow(),
  },
  (t) => [index('workflow_history_run_idx').on(t.runId, t.id), check('workflow_history_run_state_check', KNOWN_RUN_STATE)],
);

/** Timers of runs at a status; a role-held poller fires the expired ones, whichever instance armed them. */
export const workflowTimeouts = pgTable(
  'workflow_timeouts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    runId: text('run_id').notNull(),
    workflow: text('workflow').notNull(),
    status: text('status').notNull(),
    expiresAt: ms('expires_at').notNull(),
    completedAt: ms('completed_at'),
    cancelledAt: ms('cancelled_at'),
    createdAt: ms('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('workflow_timeouts_pending_expiry_idx').on(t.expiresAt, t.id).where(sql.raw(PENDING_TIMEOUT_PREDICATE)),
    index('workflow_timeouts_pending_run_idx').on(t.runId, t.status).where(sql.raw(PENDING_TIMEOUT_PREDICATE)),
  ],
);

/** The predicate of a pending timeout, shared with the queries so the planner can use the partial indexes. */
export const PENDING_TIMEOUT = sql.raw(PENDING_TIMEOUT_PREDICATE);

/**
 * The Idempotency-Key of a trigger, written in the same statement as the run it started, with that first answer
 * (run id, status and run state as created) and a hash of the request body. The primary key, not a map in one
 * process, makes a second start with the same key fail on every instance. Rows past `expires_at` are swept.
 */
export const workflowTriggerKeys = pgTable(
  'workflow_trigger_keys',
  {
    workflow: text('workflow').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    runId: text('run_id').notNull(),
    status: text('status').notNull(),
    runState: text('run_state').$type<RunState>().notNull(),
    createdAt: ms('created_at').notNull().defaultNow(),
    expiresAt: ms('expires_at').notNull(),
  },
  (t) => [primaryKey({ name: 'workflow_trigger_keys_pk', columns: [t.workflow, t.key] }), index('workflow_trigger_keys_expires_idx').on(t.expiresAt)],
);
