/**
 * Creating a run as ONE prepared SQL statement: the run row (ON CONFLICT on the one-active-run index), its first
 * history row, its outbox events and its first timeout, as data-modifying CTEs. A transaction would cost a BEGIN,
 * four statements and a COMMIT; triggers are as hot as steps when many runs start.
 */
import { Conflict, isTransient, pgError, newId, notifyOutboxWritten, OUTBOX_NOTIFY_SQL, outboxInsertFromJson, retry, toOutboxJsonRows, type Database } from '../../../kernel/index.ts';
import { ACTIVE_RUN_STATES } from '../model/run-state.ts';
import { RunCreated } from '../model/events.ts';
import { ACTIVE_RUN_PREDICATE } from './schema.ts';
import { RAW_RUN_COLUMNS, fromRawRun, type RawRunRow } from './raw-run.ts';
import type { RunRecord } from '../model/run.ts';
import type { NewRun, RunEvents } from './port.ts';
import { assertRunStorable } from './storable.ts';
import { isTriggerKeyViolation, TriggerKeyTaken } from './trigger-keys.ts';

// A run that finished between our insert and our look at the active run frees the slot; try again a few times.
const START_ATTEMPTS = 3;

const START_SQL = `
WITH ins AS (
  INSERT INTO workflow_runs (run_id, workflow, foreign_id, status, run_state, object, version, status_description)
  VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, ($6::text)::jsonb, 1, $7::text)
  ON CONFLICT (workflow, foreign_id) WHERE ${ACTIVE_RUN_PREDICATE} DO NOTHING
  RETURNING *
), hist AS (
  INSERT INTO workflow_history (run_id, version, status, run_state, status_description, reason, object)
  SELECT run_id, version, status, run_state, status_description, reason, object FROM ins
), events AS (
  ${outboxInsertFromJson('e.ev')}
  FROM ins, jsonb_array_elements(($8::text)::jsonb) WITH ORDINALITY AS e(ev, n)
  ORDER BY e.n
), armed AS (
  INSERT INTO workflow_timeouts (run_id, workflow, status, expires_at)
  SELECT run_id, workflow, status, ($9::text)::timestamptz FROM ins WHERE $9::text IS NOT NULL
), keyed AS (
  INSERT INTO workflow_trigger_keys (workflow, key, request_hash, run_id, status, run_state, expires_at)
  SELECT workflow, $10::text, $11::text, run_id, status, run_state, ($12::text)::timestamptz FROM ins WHERE $10::text IS NOT NULL
)
SELECT ${RAW_RUN_COLUMNS}, ${OUTBOX_NOTIFY_SQL} AS notified FROM ins`;

// After an insert that did nothing: our own run (a retry after a lost answer) or the active run that holds the slot.
const OWN_OR_ACTIVE_SQL = `SELECT ${RAW_RUN_COLUMNS} FROM workflow_runs
WHERE run_id = $4::text OR (workflow = $1::text AND foreign_id = $2::text AND run_state = ANY($3::text[]))`;

/** The one-statement run creator of the record store. */
export function runCreator(db: Database) {
  return {
    /** WorkflowStorePort.createRun. */
    async createRun(input: NewRun, events: RunEvents, armAt?: Date): Promise<RunRecord> {
      assertRunStorable({ foreignId: input.foreignId, object: input.object, statusDescription: input.statusDescription });
      const objectJson = input.object === undefined || input.object === null ? null : JSON.stringify(input.object);
      for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
        const runId = newId();
        const now = new Date();
        // The run as it will be stored, so its events go into the same statement.
        const run: RunRecord = { runId, workflow: input.workflow, foreignId: input.foreignId, status: input.status, runState: input.runState, object: input.object ?? null, version: 1, statusDescription: input.statusDescription ?? null, reason: null, createdAt: now, updatedAt: now };
        const created = RunCreated.outbox({ runId, workflow: run.workflow, foreignId: run.foreignId, status: run.status, runState: run.runState, version: 1 });
        const list = toOutboxJsonRows([created, ...events(run)], runId);
        const k = input.triggerKey;
        const params = [runId, input.workflow, input.foreignId, input.status, input.runState, objectJson, input.statusDescription ?? null, JSON.stringify(list), armAt ? armAt.toISOString() : null, k?.key ?? null, k?.requestHash ?? null, k?.expiresAt.toISOString() ?? null];
        let row: RawRunRow | undefined;
        let duplicate: unknown;
        try {
          [row] = await retry(() => db.query<RawRunRow>(START_SQL, params), { attempts: 3, retryIf: isTransient });
        } catch (err) {
          // The key is stored: by another start with it, or by this one's own attempt whose answer was lost. The whole
          // statement rolled back, so no second run exists; the caller answers with the key's run.
          if (k && isTriggerKeyViolation(err)) throw new TriggerKeyTaken(input.workflow, k.key);
          // A retry after a lost answer, when the run it had started has already finished, collides on the run id.
          if (pgError(err)?.code !== '23505') throw err;
          duplicate = err;
        }
        if (row) {
          notifyOutboxWritten();
          return fromRawRun(row);
        }
        // A retry after a lost answer that had committed finds our own run holding the slot: that start succeeded.
        const found = await db.query<RawRunRow>(OWN_OR_ACTIVE_SQL, [input.workflow, input.foreignId, [...ACTIVE_RUN_STATES], runId]);
        const own = found.find((r) => r.run_id === runId);
        if (own) {
          notifyOutboxWritten();
          return fromRawRun(own);
        }
        if (duplicate) throw duplicate;
        const active = found[0];
        if (active) {
          throw new Conflict(`workflow '${input.workflow}' already has an active run for foreign id '${input.foreignId}'`, { activeRunId: active.run_id, workflow: input.workflow, foreignId: input.foreignId });
        }
      }
      throw new Conflict(`workflow '${input.workflow}' keeps getting a new active run for foreign id '${input.foreignId}'`, { workflow: input.workflow, foreignId: input.foreignId });
    },
  };
}
