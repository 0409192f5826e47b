/** Shared pieces of the workflow store contract: the fixture shape, outbox reads and a bulk run insert. */
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Database } from '../../src/kernel/db/port.ts';
import { kernelOutbox } from '../../src/kernel/db/schema.ts';
import type { RunState } from '../../src/modules/workflow/model/run-state.ts';
import { workflowHistory, workflowRuns } from '../../src/modules/workflow/store/schema.ts';

/** A fresh, unmigrated database for one suite. */
export interface WorkflowStoreFixture {
  db: Database;
  cleanup: () => Promise<void>;
}

/** Outbox rows of one run (by correlation id), in id order. */
export async function outboxOf(db: Database, runId: string) {
  return db.db.select().from(kernelOutbox).where(eq(kernelOutbox.correlationId, runId)).orderBy(asc(kernelOutbox.id));
}

/** Outbox rows of several runs, in id order. */
export async function outboxOfRuns(db: Database, runIds: string[]) {
  return db.db.select().from(kernelOutbox).where(inArray(kernelOutbox.correlationId, runIds)).orderBy(asc(kernelOutbox.id));
}

/** Number of history rows of a run. */
export async function historyCount(db: Database, runId: string): Promise<number> {
  return (await db.db.select({ id: workflowHistory.id }).from(workflowHistory).where(and(eq(workflowHistory.runId, runId)))).length;
}

/** A run row the bulk helper writes directly (the list tests need 1,000 rows with chosen timestamps, fast). */
export interface BulkRun {
  runId: string;
  workflow: string;
  foreignId: string;
  status: string;
  runState: RunState;
  createdAt: Date;
}

/** Inserts runs straight into workflow_runs, 250 per statement. */
export async function bulkInsertRuns(db: Database, runs: BulkRun[]): Promise<void> {
  for (let i = 0; i < runs.length; i += 250) {
    const chunk = runs.slice(i, i + 250).map((r) => ({ ...r, object: { n: i }, version: 1, updatedAt: r.createdAt }));
    await db.db.insert(workflowRuns).values(chunk);
  }
}
