/**
 * Trial rows. A trial number is claimed together with its `running` row in one statement, so a number is never
 * handed out without a row (no lost trial) nor twice (the counter and the unique index), and the count never
 * passes max_trials. Ends are written only over a `running` row, with their event, in one statement.
 */
import { and, eq, sql } from 'drizzle-orm';
import { enqueueEvent, NotFound, notifyOutboxWritten, OUTBOX_NOTIFY_SQL, outboxInsertFromJson, toOutboxJsonRows, type Database } from '../../../kernel/index.ts';
import { TrialCompleted, TrialFailed } from '../model/events.ts';
import { iso, type TrialOutcome, type TrialRow } from './rows.ts';
import { breederTrials } from './schema.ts';

const CLAIM = `WITH n AS (
  UPDATE breeder_breeders SET next_number = next_number + 1, updated_at = now()
  WHERE id = $1::text AND status = 'running' AND generation = $2::int AND next_number < $3::int
  RETURNING next_number - 1 AS number)
INSERT INTO breeder_trials (breeder_id, number, state, params, slot, generation, worker)
SELECT $1::text, n.number, 'running', '{}'::jsonb, $4::int, $2::int, $5::text FROM n
RETURNING number`;

// The claim and the slot's incremental history read as one round trip. The statement's snapshot does not show the
// row its own CTE inserts, so that row comes from the INSERT's RETURNING; nothing is read when the claim is refused.
// It commits without waiting for the WAL flush (synchronous_commit off for this statement only, set where a claim
// succeeds): a worker crash loses nothing by it; a PostgreSQL crash within a few hundred milliseconds can lose the
// claim, and then the trial's finish finds no running row and is dropped (the worker goes on with its next claim),
// so such a crash can cost the record of the trial that was starting, never a half-written one. Only the finish,
// which carries the outcome and its event, waits for the flush: one flush per trial on the loop's path.
const CLAIM_AND_READ = `WITH n AS (
  UPDATE breeder_breeders SET next_number = next_number + 1, updated_at = now()
  WHERE id = $1::text AND status = 'running' AND generation = $2::int AND next_number < $3::int
    AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL
  RETURNING next_number - 1 AS number
), ins AS (
  INSERT INTO breeder_trials (breeder_id, number, state, params, slot, generation, worker)
  SELECT $1::text, n.number, 'running', '{}'::jsonb, $4::int, $2::int, $5::text FROM n
  RETURNING %COLUMNS%
)
SELECT %COLUMNS%, false AS claimed FROM breeder_trials WHERE breeder_id = $1::text AND number >= $6::int AND EXISTS (SELECT 1 FROM ins)
UNION ALL SELECT %COLUMNS%, true AS claimed FROM ins
ORDER BY number`;

// A trial's end and its event as one statement (data-modifying CTEs run atomically without BEGIN/COMMIT): one
// round trip on the loop's hot path instead of four. The event row is written only when the UPDATE found the trial
// still running; the final select wakes the outbox relays at commit.
const FINISH = `WITH upd AS (
  UPDATE breeder_trials SET state = $3::text, params = ($10::text)::jsonb, "values" = ($4::text)::jsonb, observations = ($5::text)::jsonb,
    constraints = ($6::text)::jsonb, error = $7::text, durations = ($8::text)::jsonb, finished_at = now()
  WHERE breeder_id = $1::text AND number = $2::int AND state = 'running'
  RETURNING number
), ev AS (
  ${outboxInsertFromJson('e.ev')}
  FROM upd, (SELECT ($9::text)::jsonb AS ev) e
)
SELECT number, ${OUTBOX_NOTIFY_SQL} AS notified FROM upd`;

// A trial that ran while the database was away and has no number yet: number, row and event in one statement. Its
// buffer key makes a second attempt (after an answer lost in transit) find the row instead of adding it again. The
// number comes from the same counter as claims but ignores max_trials: the trial really ran against the target, so
// it is written even when other workers used the last numbers meanwhile (docs/breeder.md, "Database outage").
const RECORD = `WITH known AS (
  SELECT number FROM breeder_trials WHERE breeder_id = $1::text AND buffer_key = $2::text
), n AS (
  UPDATE breeder_breeders SET next_number = next_number + 1, updated_at = now()
  WHERE id = $1::text AND NOT EXISTS (SELECT 1 FROM known)
  RETURNING next_number - 1 AS number
), ins AS (
  INSERT INTO breeder_trials (breeder_id, number, state, params, "values", observations, constraints, error, slot, generation, worker, durations, buffer_key, created_at, finished_at)
  SELECT $1::text, n.number, $3::text, ($4::text)::jsonb, ($5::text)::jsonb, ($6::text)::jsonb, ($7::text)::jsonb, $8::text, $9::int, $10::int, $11::text, ($12::text)::jsonb, $2::text, $13::timestamptz, $14::timestamptz
  FROM n
  RETURNING number
), ev AS (
  ${outboxInsertFromJson(`jsonb_set(e.ev, '{data,number}', to_jsonb(ins.number))`)}
  FROM ins, (SELECT ($15::text)::jsonb AS ev) e
)
SELECT number, true AS fresh, ${OUTBOX_NOTIFY_SQL} AS notified FROM ins
UNION ALL SELECT number, false AS fresh, null AS notified FROM known`;

/** A trial that ran while the database was away, as the loop kept it (runtime/trial-buffer.ts). */
export interface UnnumberedTrial {
  /** Unique per trial; a write that is tried again finds the row by it. */
  key: string;
  params: Record<string, unknown>;
  outcome: TrialOutcome;
  slot: number;
  generation: number;
  worker: string;
  startedAt: Date;
  finishedAt: Date;
}

/** JSON text for a jsonb parameter; SQL NULL (not JSON null) for null. */
const jsonOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

const COLUMNS = 'breeder_id, number, state, params, "values", observations, constraints, error, slot, generation, worker, durations, created_at, finished_at';
const CLAIM_AND_READ_SQL = CLAIM_AND_READ.replaceAll('%COLUMNS%', COLUMNS);

function toTrial(r: Record<string, unknown>): TrialRow {
  return {
    breederId: String(r.breeder_id),
    number: Number(r.number),
    state: r.state as TrialRow['state'],
    params: (r.params ?? {}) as Record<string, unknown>,
    values: (r.values ?? null) as TrialRow['values'],
    observations: (r.observations ?? null) as TrialRow['observations'],
    constraints: (r.constraints ?? null) as TrialRow['constraints'],
    error: (r.error ?? null) as string | null,
    slot: Number(r.slot),
    generation: Number(r.generation),
    worker: String(r.worker),
    durations: (r.durations ?? null) as TrialRow['durations'],
    createdAt: iso(r.created_at)!,
    finishedAt: iso(r.finished_at),
  };
}

/** Trial reads and writes. */
export function trialRows(database: Database) {
  return {
    /** Claims the next number for a running trial of `slot`; null when the breeder is not running in `generation` or max_trials is reached. */
    async claim(breederId: string, generation: number, maxTrials: number, slot: number, worker: string): Promise<number | null> {
      const rows = await database.query<{ number: number }>(CLAIM, [breederId, generation, maxTrials, slot, worker]);
      return rows[0] ? Number(rows[0].number) : null;
    },
    /**
     * claim, and in the same round trip the trials numbered `from` or more (the new running one included): the
     * loop's turn starts with one statement instead of two. `number` is null (and `rows` empty) when the claim is refused.
     */
    async claimAndRead(breederId: string, generation: number, maxTrials: number, slot: number, worker: string, from: number): Promise<{ number: number | null; rows: TrialRow[] }> {
      const rows = await database.query<Record<string, unknown>>(CLAIM_AND_READ_SQL, [breederId, generation, maxTrials, slot, worker, from]);
      const mine = rows.find((r) => r.claimed === true);
      return { number: mine ? Number(mine.number) : null, rows: rows.map(toTrial) };
    },
    /**
     * Records the sampled parameters of a running trial, without waiting for the WAL flush (synchronous_commit off
     * for this one statement's transaction; a no-op on PGlite). A crashed worker loses nothing by it: the commit is
     * in the server. Only a crash of PostgreSQL itself within a few hundred milliseconds can lose these params, and
     * then the trial's finish writes them again (it carries the params), so a trial that ends is complete either way.
     * With the claim's, it saves two of the loop's three flushes per trial (a flush took ~3 ms at a load of 6 here;
     * 0.2-0.3 ms without).
     */
    async setParams(breederId: string, number: number, params: Record<string, unknown>): Promise<void> {
      await database.query(
        `UPDATE breeder_trials SET params = ($3::text)::jsonb WHERE breeder_id = $1::text AND number = $2::int AND state = 'running'
           AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL`,
        [breederId, number, JSON.stringify(params)],
      );
    },
    /** Ends a running trial with its event; false when it was no longer running (abandoned meanwhile). */
    async finish(breeder: { id: string; name: string }, number: number, params: Record<string, unknown>, o: TrialOutcome): Promise<boolean> {
      const data = { breederId: breeder.id, name: breeder.name, number, params, values: o.values, observations: o.observations, error: o.error };
      const [event] = toOutboxJsonRows([(o.state === 'complete' ? TrialCompleted : TrialFailed).outbox(data)], breeder.id);
      const rows = await database.query(FINISH, [breeder.id, number, o.state, jsonOrNull(o.values), jsonOrNull(o.observations), jsonOrNull(o.constraints), o.error, jsonOrNull(o.durations), JSON.stringify(event), JSON.stringify(params)]);
      if (rows[0]) notifyOutboxWritten();
      return rows.length > 0;
    },
    /**
     * Writes a trial that ran without a number (the database was away when it started) with its event; returns its
     * number and whether this call wrote it (false: an earlier attempt did).
     */
    async record(breeder: { id: string; name: string }, t: UnnumberedTrial): Promise<{ number: number; fresh: boolean }> {
      const o = t.outcome;
      const data = { breederId: breeder.id, name: breeder.name, number: -1, params: t.params, values: o.values, observations: o.observations, error: o.error };
      const [event] = toOutboxJsonRows([(o.state === 'complete' ? TrialCompleted : TrialFailed).outbox(data)], breeder.id);
      const rows = await database.query<{ number: number; fresh: boolean }>(RECORD, [
        breeder.id, t.key, o.state, JSON.stringify(t.params), jsonOrNull(o.values), jsonOrNull(o.observations), jsonOrNull(o.constraints), o.error,
        t.slot, t.generation, t.worker, jsonOrNull(o.durations), t.startedAt.toISOString(), t.finishedAt.toISOString(), JSON.stringify(event),
      ]);
      const row = rows[0];
      if (!row) throw new NotFound(`breeder '${breeder.id}'`);
      if (row.fresh) notifyOutboxWritten();
      return { number: Number(row.number), fresh: Boolean(row.fresh) };
    },
    /** Fails the running trials of a slot whose worker died (its job runs again); returns their numbers. */
    async abandon(breeder: { id: string; name: string }, slot: number, why: string): Promise<number[]> {
      const numbers = await database.transaction(async (tx) => {
        const rows = await tx
          .update(breederTrials)
          .set({ state: 'fail', error: why, finishedAt: sql`now()` })
          .where(and(eq(breederTrials.breederId, breeder.id), eq(breederTrials.slot, slot), eq(breederTrials.state, 'running')))
          .returning({ number: breederTrials.number, params: breederTrials.params });
        for (const r of rows) {
          const data = { breederId: breeder.id, name: breeder.name, number: r.number, params: r.params as Record<string, unknown>, values: null, observations: null, error: why };
          await enqueueEvent(tx, TrialFailed.outbox(data));
        }
        return rows.map((r) => r.number);
      });
      if (numbers.length) notifyOutboxWritten();
      return numbers;
    },
    /** Every trial of the breeder, by number: the sampler's history. */
    async all(breederId: string): Promise<TrialRow[]> {
      return (await database.query(`SELECT ${COLUMNS} FROM breeder_trials WHERE breeder_id = $1::text ORDER BY number`, [breederId])).map(toTrial);
    },
    /** The trials numbered `from` or more, by number (the loop's incremental history read). */
    async since(breederId: string, from: number): Promise<TrialRow[]> {
      return (await database.query(`SELECT ${COLUMNS} FROM breeder_trials WHERE breeder_id = $1::text AND number >= $2::int ORDER BY number`, [breederId, from])).map(toTrial);
    },
    /** One page of trials with numbers above `after`. */
    async page(breederId: string, after: number, limit: number, state?: string): Promise<TrialRow[]> {
      const rows = await database.query(
        `SELECT ${COLUMNS} FROM breeder_trials WHERE breeder_id = $1::text AND number > $2::int AND ($4::text IS NULL OR state = $4::text) ORDER BY number LIMIT $3::int`,
        [breederId, after, limit, state ?? null],
      );
      return rows.map(toTrial);
    },
    /** Trials per state. */
    async counts(breederId: string): Promise<Record<string, number>> {
      const rows = await database.query<{ state: string; n: number }>(`SELECT state, count(*)::int AS n FROM breeder_trials WHERE breeder_id = $1::text GROUP BY state`, [breederId]);
      return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    },
  };
}
