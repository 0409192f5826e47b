/** Timeout rows: armed in a run's transaction, fired by a role-held poller in expiry order, completed or cancelled once. */
import { and, asc, eq, lte, sql } from 'drizzle-orm';
import type { Database, Db } from '../../kernel/index.ts';
import { PENDING_TIMEOUT, workflowTimeouts } from './schema.ts';
import type { NewTimeout, StoredTimeout } from './store-types.ts';

const t = workflowTimeouts;

/** The timeout store. */
export function timeoutStore(db: Database) {
  return {
    /** Arms a timeout (in `tx` when given, e.g. the transition that moved the run to `status`); returns its id. */
    async addTimeout(input: NewTimeout, tx?: Db): Promise<number> {
      const [row] = await (tx ?? db.db).insert(t).values(input).returning({ id: t.id });
      return row!.id;
    },

    /** Pending timeouts with expiresAt <= now, earliest first (ties by id), at most `limit`. */
    async expiredTimeouts(now: Date, limit: number): Promise<StoredTimeout[]> {
      // PENDING_TIMEOUT is the partial index's own predicate, so the scan reads the index in expiry order.
      return db.db.select().from(t).where(and(PENDING_TIMEOUT, lte(t.expiresAt, now))).orderBy(asc(t.expiresAt), asc(t.id)).limit(limit);
    },

    /** Marks a pending timeout fired; false if it was already completed or cancelled (or does not exist). */
    async completeTimeout(id: number, tx?: Db): Promise<boolean> {
      const rows = await (tx ?? db.db).update(t).set({ completedAt: sql`now()` }).where(and(eq(t.id, id), PENDING_TIMEOUT)).returning({ id: t.id });
      return rows.length > 0;
    },

    /** Cancels the run's pending timeouts at `status` (every status when omitted); returns how many. */
    async cancelTimeouts(runId: string, status?: string, tx?: Db): Promise<number> {
      const rows = await (tx ?? db.db)
        .update(t)
        .set({ cancelledAt: sql`now()` })
        .where(and(eq(t.runId, runId), status === undefined ? undefined : eq(t.status, status), PENDING_TIMEOUT))
        .returning({ id: t.id });
      return rows.length;
    },
  };
}
