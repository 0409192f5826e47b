/**
 * The hot path's write: a run's transition as ONE SQL statement. The compare-and-set UPDATE, the history row, the
 * outbox rows and the timeout rows are data-modifying CTEs of a single statement, which PostgreSQL runs atomically
 * without BEGIN/COMMIT; it is a prepared statement (Database.query), so a transition costs one round trip.
 * The multi-statement `transition` in store-runs.ts stays for callers that need their own work in the transaction.
 */
import { isTransient, newId, notifyOutboxWritten, outboxSubject, retry, type Database, type OutboxEvent } from '../../kernel/index.ts';
import { runStatesLeadingTo, type RunState } from './run-state.ts';
import { RAW_RUN_COLUMNS, fromRawRun, type RawRunRow } from './store-raw-run.ts';
import { explainMiss } from './store-runs.ts';
import type { RunPatch, StoredRun } from './store-types.ts';

/** What happens to the run's timeouts in the same statement. */
export interface TimeoutPlan {
  /** Cancel the run's pending timeouts (it leaves a status that had one, or stops running). */
  cancel: boolean;
  /** Arm a timeout at the run's new status expiring then. */
  armAt?: Date;
}

const MOVE_SQL = `
WITH upd AS (
  UPDATE workflow_runs SET
    version = version + 1,
    updated_at = now(),
    status = COALESCE($3::text, status),
    run_state = COALESCE($4::text, run_state),
    object = CASE WHEN $5::boolean THEN ($6::text)::jsonb ELSE object END,
    status_description = CASE WHEN $7::boolean THEN $8::text ELSE status_description END,
    reason = CASE WHEN $9::boolean THEN $10::text ELSE reason END
  WHERE run_id = $1::text AND version = $2::int AND ($4::text IS NULL OR run_state = ANY($11::text[]))
  RETURNING *
), hist AS (
  INSERT INTO workflow_history (run_id, version, status, run_state, status_description, reason, object)
  SELECT run_id, version, status, run_state, status_description, reason, CASE WHEN $5::boolean THEN object END FROM upd
), events AS (
  INSERT INTO kernel_outbox (event_id, type, subject, data, correlation_id)
  SELECT e.ev->>'id', e.ev->>'type', e.ev->>'subject', e.ev->'data', e.ev->>'correlationId'
  FROM upd, jsonb_array_elements(($12::text)::jsonb) WITH ORDINALITY AS e(ev, n)
  ORDER BY e.n
), cancelled AS (
  UPDATE workflow_timeouts SET cancelled_at = now()
  WHERE $13::boolean AND run_id = $1::text AND completed_at IS NULL AND cancelled_at IS NULL AND EXISTS (SELECT 1 FROM upd)
), armed AS (
  INSERT INTO workflow_timeouts (run_id, workflow, status, expires_at)
  SELECT run_id, workflow, status, ($14::text)::timestamptz FROM upd WHERE $14::text IS NOT NULL
)
SELECT ${RAW_RUN_COLUMNS} FROM upd`;

/** The run as the statement will leave it, so its events can be written by the same statement. */
export function predictMove(current: StoredRun, patch: RunPatch): StoredRun {
  const after: StoredRun = { ...current, version: current.version + 1, updatedAt: new Date() };
  if (patch.status !== undefined) after.status = patch.status;
  if (patch.runState !== undefined) after.runState = patch.runState;
  if (patch.object !== undefined) after.object = patch.object ?? null;
  if (patch.statusDescription !== undefined) after.statusDescription = patch.statusDescription;
  if (patch.reason !== undefined) after.reason = patch.reason;
  return after;
}

/** The single-statement run mover of the record store. */
export function runMover(db: Database) {
  return {
    /**
     * Applies `patch` to `current` if the run is still at `current.version` (and the run-state move is allowed),
     * with its history row, `events(after)` in the outbox (correlation id = run id) and `timeouts`, in one
     * statement. Conflict when stale or not allowed, NotFound when the run is gone.
     */
    async move(current: StoredRun, patch: RunPatch, events: (after: StoredRun) => readonly OutboxEvent[], timeouts: TimeoutPlan = { cancel: false }): Promise<StoredRun> {
      const predicted = predictMove(current, patch);
      // Ids are fixed before the first attempt, so a retry after a lost answer cannot enqueue an event twice.
      const list = events(predicted).map((e) => ({ id: e.id ?? newId(), type: e.type, subject: outboxSubject(e), data: e.data ?? null, correlationId: e.correlationId ?? current.runId }));
      const hasObject = patch.object !== undefined;
      const params = [
        current.runId,
        current.version,
        patch.status ?? null,
        patch.runState ?? null,
        hasObject,
        hasObject && patch.object !== null ? JSON.stringify(patch.object) : null,
        patch.statusDescription !== undefined,
        patch.statusDescription ?? null,
        patch.reason !== undefined,
        patch.reason ?? null,
        patch.runState ? runStatesLeadingTo(patch.runState) : [],
        JSON.stringify(list),
        timeouts.cancel,
        timeouts.armAt ? timeouts.armAt.toISOString() : null,
      ];
      // Only transient failures are retried; if the first attempt committed but its answer was lost, the retry
      // misses the version and reports a Conflict, which callers already treat as "someone moved it on".
      const rows = await retry(() => db.query<RawRunRow>(MOVE_SQL, params), { attempts: 3, retryIf: isTransient });
      const row = rows[0];
      if (!row) return explainMiss(db.db, current.runId, current.version, patch.runState);
      if (list.length > 0) notifyOutboxWritten();
      return fromRawRun(row);
    },
  };
}
