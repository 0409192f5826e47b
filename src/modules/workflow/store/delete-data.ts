/** Deleting a finished run's data: the object scrubbed, run state dataDeleted, the history's objects blanked. */
import { and, eq, inArray, sql } from 'drizzle-orm';
import { enqueueEvent, notifyOutboxWritten, type Database } from '../../../kernel/index.ts';
import type { RunRecord } from '../model/run.ts';
import { runStatesLeadingTo } from '../model/run-state.ts';
import { explainMiss } from './explain-miss.ts';
import type { RunEvents } from './port.ts';
import { toRunRecord } from './rows.ts';
import { workflowHistory, workflowRuns } from './schema.ts';

/** The data deleter of the record store. */
export function dataDeleter(db: Database) {
  return {
    /**
     * Replaces a finished run's object with `scrubbed` and sets run state dataDeleted (luno's requestedDataDeleted
     * step is folded into the same transaction), with its history row and `events`. History rows stay, without their
     * objects. Conflict for an active run, NotFound for an unknown one. Rare and multi-row: a plain transaction.
     */
    async deleteData(runId: string, scrubbed: unknown, events: RunEvents): Promise<RunRecord> {
      const run = await db.transaction(async (tx) => {
        const [row] = await tx
          .update(workflowRuns)
          .set({ object: scrubbed ?? null, runState: 'dataDeleted', version: sql`${workflowRuns.version} + 1`, updatedAt: sql`now()` })
          .where(and(eq(workflowRuns.runId, runId), inArray(workflowRuns.runState, runStatesLeadingTo('requestedDataDeleted'))))
          .returning();
        if (!row) return explainMiss(tx, runId, undefined, 'requestedDataDeleted');
        const after = toRunRecord(row);
        await tx.update(workflowHistory).set({ object: null }).where(eq(workflowHistory.runId, runId));
        await tx.insert(workflowHistory).values({ runId, version: after.version, status: after.status, runState: after.runState, statusDescription: after.statusDescription, reason: after.reason, object: after.object });
        for (const e of events(after)) await enqueueEvent(tx, { ...e, correlationId: e.correlationId ?? runId });
        return after;
      });
      notifyOutboxWritten();
      return run;
    },
  };
}
