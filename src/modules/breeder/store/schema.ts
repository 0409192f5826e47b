/** The breeder module's tables (prefix `breeder_`): breeders, their trials, targets and encrypted credentials. */
import { sql } from 'drizzle-orm';
import { bigserial, check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

// Millisecond precision, as in the other modules: a timestamp read back compares exactly.
const ms = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/** A breeder's lifecycle states. */
export const BREEDER_STATUSES = ['created', 'running', 'stopped', 'completed', 'failed'] as const;
/** A breeder's status. */
export type BreederStatus = (typeof BREEDER_STATUSES)[number];
/** A trial's states (the samplers' TrialState). */
export const TRIAL_STATES = ['running', 'complete', 'fail', 'pruned'] as const;

/**
 * One row per breeder. `generation` goes up on every start, so jobs of an earlier start see they are stale;
 * `next_number` hands out trial numbers, and never passes the definition's max_trials.
 */
export const breederBreeders = pgTable(
  'breeder_breeders',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    definition: jsonb('definition').notNull(),
    status: text('status').notNull().default('created'),
    generation: integer('generation').notNull().default(0),
    nextNumber: integer('next_number').notNull().default(0),
    reason: text('reason'),
    startedAt: ms('started_at'),
    finishedAt: ms('finished_at'),
    createdAt: ms('created_at').notNull().defaultNow(),
    updatedAt: ms('updated_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('breeder_breeders_name_idx').on(t.name), check('breeder_breeders_status_check', sql.raw(`status IN (${BREEDER_STATUSES.map((s) => `'${s}'`).join(', ')})`))],
);

/** One row per trial; (breeder_id, number) is unique, so a trial is never recorded twice. */
export const breederTrials = pgTable(
  'breeder_trials',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    breederId: text('breeder_id').notNull(),
    number: integer('number').notNull(),
    state: text('state').notNull(),
    params: jsonb('params').notNull(),
    values: jsonb('values'),
    observations: jsonb('observations'),
    constraints: jsonb('constraints'),
    error: text('error'),
    /** Which worker slot of the breeder ran it, and in which start (generation). */
    slot: integer('slot').notNull(),
    generation: integer('generation').notNull(),
    /** The instance that ran it. */
    worker: text('worker').notNull(),
    /** Milliseconds per phase: effectuate, settle, reconnoiter. */
    durations: jsonb('durations'),
    /**
     * Set only on a trial that ran while the database was away and was written when it came back: a key the
     * worker chose, so writing it again after an answer lost in transit finds it instead of adding it twice.
     */
    bufferKey: text('buffer_key'),
    createdAt: ms('created_at').notNull().defaultNow(),
    finishedAt: ms('finished_at'),
  },
  (t) => [
    uniqueIndex('breeder_trials_number_idx').on(t.breederId, t.number),
    uniqueIndex('breeder_trials_buffer_key_idx').on(t.breederId, t.bufferKey).where(sql`buffer_key IS NOT NULL`),
    index('breeder_trials_running_idx').on(t.breederId, t.slot).where(sql`state = 'running'`),
    check('breeder_trials_state_check', sql.raw(`state IN (${TRIAL_STATES.map((s) => `'${s}'`).join(', ')})`)),
  ],
);

/** Targets as godon names them: an http or ssh endpoint with an optional credential. */
export const breederTargets = pgTable(
  'breeder_targets',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    kind: text('kind').notNull(),
    spec: jsonb('spec').notNull(),
    createdAt: ms('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('breeder_targets_name_idx').on(t.name)],
);

/** Credentials, encrypted at rest; `secret` is the ciphertext and is never returned. */
export const breederCredentials = pgTable(
  'breeder_credentials',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    kind: text('kind').notNull(),
    secret: text('secret').notNull(),
    createdAt: ms('created_at').notNull().defaultNow(),
  },
  (t) => [uniqueIndex('breeder_credentials_name_idx').on(t.name)],
);
