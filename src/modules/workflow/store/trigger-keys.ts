/**
 * Idempotency-Keys of triggers (workflow_trigger_keys): the first answer a key gave, looked up before a start, and the
 * sweep of expired keys. The key itself is written by the run-creating statement (create-run.ts).
 */
import { Conflict, pgError, type Database } from '../../../kernel/index.ts';
import type { RunState } from '../model/run-state.ts';
import type { StoredTriggerKey } from './port.ts';

/** The key is stored already (a concurrent or earlier start with it): the caller answers with the stored run. */
export class TriggerKeyTaken extends Conflict {
  constructor(workflow: string, key: string) {
    super(`Idempotency-Key '${key}' of workflow '${workflow}' is already stored`, { workflow, idempotencyKey: key });
  }
}

/** The primary key's name, as the unique violation reports it (postgres.js: constraint_name; PGlite: constraint). */
export const TRIGGER_KEY_CONSTRAINT = 'workflow_trigger_keys_pk';

/** Whether `err` is the unique violation of a trigger key (and not of the run id). */
export function isTriggerKeyViolation(err: unknown): boolean {
  const pg = pgError(err);
  return pg?.code === '23505' && pg.constraint === TRIGGER_KEY_CONSTRAINT;
}

// One statement: drop the key if it expired (so it can start a run again), return it if it has not.
const FIND_SQL = `WITH gone AS (
  DELETE FROM workflow_trigger_keys WHERE workflow = $1::text AND key = $2::text AND expires_at <= ($3::text)::timestamptz
)
SELECT request_hash, run_id, status, run_state FROM workflow_trigger_keys
WHERE workflow = $1::text AND key = $2::text AND expires_at > ($3::text)::timestamptz`;

const SWEEP_SQL = `WITH doomed AS (
  SELECT workflow, key FROM workflow_trigger_keys WHERE expires_at <= ($1::text)::timestamptz ORDER BY expires_at LIMIT $2::int
), gone AS (
  DELETE FROM workflow_trigger_keys k USING doomed d WHERE k.workflow = d.workflow AND k.key = d.key RETURNING 1
)
SELECT count(*)::int AS n FROM gone`;

/** The trigger-key reads and the sweep of the record store. */
export function triggerKeyStore(db: Database) {
  return {
    /** WorkflowStorePort.findTriggerKey. */
    async findTriggerKey(workflow: string, key: string, now: Date): Promise<StoredTriggerKey | undefined> {
      const [row] = await db.query<{ request_hash: string; run_id: string; status: string; run_state: RunState }>(FIND_SQL, [workflow, key, now.toISOString()]);
      return row && { requestHash: row.request_hash, runId: row.run_id, status: row.status, runState: row.run_state };
    },
    /** WorkflowStorePort.deleteExpiredTriggerKeys. */
    async deleteExpiredTriggerKeys(now: Date, limit: number): Promise<number> {
      const [row] = await db.query<{ n: number }>(SWEEP_SQL, [now.toISOString(), limit]);
      return row?.n ?? 0;
    },
  };
}
