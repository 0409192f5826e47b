/** Timeout rows (armed and cancelled by the statements that create and move runs): read in expiry order by a role-held poller, completed once. */
import { and, asc, eq, lte, sql } from 'drizzle-orm';
import type { Database } from '../../../kernel/index.ts';
import { PENDING_TIMEOUT, workflowTimeouts } from './schema.ts';
import type { TimeoutRow } from './port.ts';

const t = workflowTimeouts;

/** The timeout store. */
export function timeoutStore(db: Database) {
  return {
    /** Pending timeouts with expiresAt <= now, earliest first (ties by id), at most `limit`. */
    async expiredTimeouts(now: Date, limit: number): Promise<TimeoutRow[]> {
      // PENDING_TIMEOUT is the partial index's own predicate, so the scan reads the index in expiry order.
      return db.db.select({ id: t.id, runId: t.runId, workflow: t.workflow, status: t.status, expiresAt: t.expiresAt }).from(t).where(and(PENDING_TIMEOUT, lte(t.expiresAt, now))).orderBy(asc(t.expiresAt), asc(t.id)).limit(limit);
    },

    /** When the earliest pending timeout is due, if any: the first entry of the partial index in expiry order. */
    async nextTimeoutAt(): Promise<Date | undefined> {
      const [first] = await db.db.select({ expiresAt: t.expiresAt }).from(t).where(PENDING_TIMEOUT).orderBy(asc(t.expiresAt), asc(t.id)).limit(1);
      return first?.expiresAt;
    },

    /** Marks a pending timeout fired; false if it was already completed or cancelled (or does not exist). */
    async completeTimeout(id: number): Promise<boolean> {
      const rows = await db.db.update(t).set({ completedAt: sql`now()` }).where(and(eq(t.id, id), PENDING_TIMEOUT)).returning({ id: t.id });
      return rows.length > 0;
    },
  };
}
