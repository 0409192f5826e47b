/**
 * The hot path's write: run transitions as ONE SQL statement. The compare-and-set UPDATE, the history rows, the
 * outbox rows and the timeout rows are data-modifying CTEs of a single statement, which PostgreSQL runs atomically
 * without BEGIN/COMMIT; it is a prepared statement (Database.query), so it costs one round trip.
 *
 * Moves that arrive while earlier statements are in flight are grouped into the next statement (group commit):
 * each move keeps its own compare-and-set, so one stale move does not stop the others, and under load many
 * transitions share one round trip, one socket write and one WAL flush. An idle store sends a move at once.
 */
import { isTransient, notifyOutboxWritten, OUTBOX_NOTIFY_SQL, outboxInsertFromJson, retry, toOutboxJsonRows, type Database } from '../../../kernel/index.ts';
import type { RunRecord } from '../model/run.ts';
import { runStatesLeadingTo } from '../model/run-state.ts';
import { RAW_RUN_COLUMNS, fromRawRun, type RawRunRow } from './raw-run.ts';
import { explainMiss } from './explain-miss.ts';
import type { RunEvents, RunPatch, TimeoutPlan } from './port.ts';
import { assertRunStorable } from './storable.ts';

/** Statements in flight at once; further moves wait and go together in the next statement. */
const MAX_STATEMENTS_IN_FLIGHT = 4;
/** Moves in one statement at most. */
const MAX_MOVES_PER_STATEMENT = 200;

// `input` is one JSON array of moves; `idx` ties each returned row to its move. The `has_*` flags tell "set to
// null" apart from "leave as is". The final select wakes the outbox relays of every instance at commit.
const MOVE_SQL = `
WITH input AS (
  SELECT * FROM jsonb_to_recordset(($1::text)::jsonb) AS i(
    idx int, run_id text, version int, status text, run_state text, allowed text[],
    has_object boolean, object jsonb, has_description boolean, status_description text, has_reason boolean, reason text,
    events jsonb, cancel_timeouts boolean, arm_at timestamptz)
), upd AS (
  UPDATE workflow_runs r SET
    version = r.version + 1,
    updated_at = now(),
    status = COALESCE(i.status, r.status),
    run_state = COALESCE(i.run_state, r.run_state),
    object = CASE WHEN i.has_object THEN i.object ELSE r.object END,
    status_description = CASE WHEN i.has_description THEN i.status_description ELSE r.status_description END,
    reason = CASE WHEN i.has_reason THEN i.reason ELSE r.reason END
  FROM input i
  WHERE r.run_id = i.run_id AND r.version = i.version AND (i.run_state IS NULL OR r.run_state = ANY(i.allowed))
  RETURNING r.*, i.idx, i.has_object, i.events, i.cancel_timeouts, i.arm_at
), hist AS (
  INSERT INTO workflow_history (run_id, version, status, run_state, status_description, reason, object)
  SELECT run_id, version, status, run_state, status_description, reason, CASE WHEN has_object THEN object END FROM upd ORDER BY idx
), events AS (
  ${outboxInsertFromJson('e.ev')}
  FROM upd, jsonb_array_elements(upd.events) WITH ORDINALITY AS e(ev, n)
  ORDER BY upd.idx, e.n
), cancelled AS (
  UPDATE workflow_timeouts t SET cancelled_at = now()
  FROM upd
  WHERE upd.cancel_timeouts AND t.run_id = upd.run_id AND t.completed_at IS NULL AND t.cancelled_at IS NULL
), armed AS (
  INSERT INTO workflow_timeouts (run_id, workflow, status, expires_at)
  SELECT run_id, workflow, status, arm_at FROM upd WHERE arm_at IS NOT NULL
)
SELECT idx, ${RAW_RUN_COLUMNS}, ${OUTBOX_NOTIFY_SQL} AS notified FROM upd`;

/** The run as the statement will leave it, so its events can be written by the same statement. */
export function predictMove(current: RunRecord, patch: RunPatch): RunRecord {
  const after: RunRecord = { ...current, version: current.version + 1, updatedAt: new Date() };
  if (patch.status !== undefined) after.status = patch.status;
  if (patch.runState !== undefined) after.runState = patch.runState;
  if (patch.object !== undefined) after.object = patch.object ?? null;
  if (patch.statusDescription !== undefined) after.statusDescription = patch.statusDescription;
  if (patch.reason !== undefined) after.reason = patch.reason;
  return after;
}

/** One move waiting for its statement. */
interface PendingMove {
  /** The move's row of `input`, as JSON. */
  json: string;
  current: RunRecord;
  patch: RunPatch;
  hasEvents: boolean;
  resolve: (run: RunRecord) => void;
  reject: (err: unknown) => void;
}

/** The move's row of the statement's `input` (JSON, so any number of moves is one parameter). */
function inputOf(current: RunRecord, patch: RunPatch, events: unknown[], timeouts: TimeoutPlan): Record<string, unknown> {
  return {
    run_id: current.runId,
    version: current.version,
    status: patch.status ?? null,
    run_state: patch.runState ?? null,
    allowed: patch.runState ? runStatesLeadingTo(patch.runState) : null,
    has_object: patch.object !== undefined,
    object: patch.object ?? null,
    has_description: patch.statusDescription !== undefined,
    status_description: patch.statusDescription ?? null,
    has_reason: patch.reason !== undefined,
    reason: patch.reason ?? null,
    events,
    cancel_timeouts: timeouts.cancel,
    arm_at: timeouts.armAt ? timeouts.armAt.toISOString() : null,
  };
}

/** The grouped run mover of the record store. */
export function runMover(db: Database) {
  const waiting: PendingMove[] = [];
  let inFlight = 0;

  async function execute(batch: PendingMove[]): Promise<void> {
    // Only transient failures are retried; if an attempt committed but its answer was lost, the retry misses the
    // versions and reports Conflicts, which callers already treat as "someone moved it on".
    const input = `[${batch.map((m, idx) => `{"idx":${idx},${m.json.slice(1)}`).join(',')}]`;
    const rows = await retry(() => db.query<RawRunRow & { idx: number }>(MOVE_SQL, [input]), { attempts: 3, retryIf: isTransient });
    const byIdx = new Map(rows.map((r) => [r.idx, r]));
    if (batch.some((m, idx) => m.hasEvents && byIdx.has(idx))) notifyOutboxWritten();
    for (const [idx, m] of batch.entries()) {
      const row = byIdx.get(idx);
      if (row) m.resolve(fromRawRun(row));
      else explainMiss(db.db, m.current.runId, m.current.version, m.patch.runState).catch(m.reject);
    }
  }

  function pump(): void {
    while (inFlight < MAX_STATEMENTS_IN_FLIGHT && waiting.length > 0) {
      const batch = waiting.splice(0, MAX_MOVES_PER_STATEMENT);
      inFlight++;
      execute(batch)
        .catch(async (err: unknown) => {
          // A statement fails as a whole; so that one bad move cannot fail the others, each is tried on its own.
          if (batch.length === 1) return batch[0]!.reject(err);
          await Promise.all(batch.map((m) => execute([m]).catch(m.reject)));
        })
        .finally(() => {
          inFlight--;
          pump();
        });
    }
  }

  return {
    /**
     * Applies `patch` to `current` if the run is still at `current.version` (and the run-state move is allowed),
     * with its history row, `events(after)` in the outbox (correlation id = run id) and `timeouts`, in one
     * statement (shared with other moves under load). Conflict when stale or not allowed, NotFound when the run is gone.
     */
    move(current: RunRecord, patch: RunPatch, events: RunEvents, timeouts: TimeoutPlan = { cancel: false }): Promise<RunRecord> {
      return new Promise<RunRecord>((resolve, reject) => {
        // Checked before the move joins a group: in one, it would fail the whole statement and send every other move
        // of the group again on its own.
        assertRunStorable({ object: patch.object, statusDescription: patch.statusDescription, reason: patch.reason });
        const list = toOutboxJsonRows(events(predictMove(current, patch)), current.runId);
        waiting.push({ json: JSON.stringify(inputOf(current, patch, list, timeouts)), current, patch, hasEvents: list.length > 0, resolve, reject });
        pump();
      });
    },
  };
}
