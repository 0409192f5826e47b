/** Why a compare-and-set write changed no row: the run is gone, it moved on, or the run-state move is not allowed. */
import { eq } from 'drizzle-orm';
import { Conflict, NotFound, type Db } from '../../../kernel/index.ts';
import { assertRunStateTransition, type RunState } from '../model/run-state.ts';
import { workflowRuns } from './schema.ts';

/** Throws NotFound, a Conflict naming the versions, or the run-state table's Conflict naming both states. */
export async function explainMiss(db: Db, runId: string, expectedVersion: number | undefined, to: RunState | undefined): Promise<never> {
  // A new statement: under READ COMMITTED it sees the concurrent writer that beat us.
  const [cur] = await db.select({ version: workflowRuns.version, runState: workflowRuns.runState }).from(workflowRuns).where(eq(workflowRuns.runId, runId));
  if (!cur) throw new NotFound(`workflow run '${runId}'`);
  if (expectedVersion !== undefined && cur.version !== expectedVersion) {
    throw new Conflict(`workflow run '${runId}' is at version ${cur.version}, not ${expectedVersion}`, { runId, expectedVersion, currentVersion: cur.version });
  }
  if (to) assertRunStateTransition(cur.runState, to);
  throw new Conflict(`workflow run '${runId}' changed concurrently`, { runId, expectedVersion, currentVersion: cur.version });
}
