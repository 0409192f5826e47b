/** Reading runs: lookup, latest, history, the keyset-paged list, and the engine's sweeps. */
import { cutPage, decodeCursor, pageLimit, Invalid, type Database } from '../../../kernel/index.ts';
import { and, asc, desc, eq, gte, inArray, like, lt, sql, type SQL } from 'drizzle-orm';
import { ACTIVE_RUN_STATES, ERROR_PAUSE_PREFIX, RUN_STATES, type RunState } from '../model/run-state.ts';
import { workflowHistory, workflowRuns } from './schema.ts';
import { RAW_RUN_COLUMNS, fromRawRun, type RawRunRow } from './raw-run.ts';
import { toHistoryEntry, toRunRecord } from './rows.ts';
import type { RunRecord } from '../model/run.ts';
import type { HistoryEntry, ListRunsQuery, RunPage } from './types.ts';

const LOOKUP_SQL = `SELECT ${RAW_RUN_COLUMNS} FROM workflow_runs WHERE run_id = $1::text`;

const r = workflowRuns;

/** The run readers of the record store. */
export function runReaders(db: Database) {
  const q = db.db;
  // Lists and counts users page through tolerate a replica's delay; lookup, latest and history feed the engine's
  // decisions (and a client reading back the run it just triggered), so they stay on the primary.
  const replica = db.readDb;
  return {
    /** The run with this id, or undefined. */
    async lookup(runId: string): Promise<RunRecord | undefined> {
      // Every step starts with this read: a prepared statement, one round trip.
      const [row] = await db.query<RawRunRow>(LOOKUP_SQL, [runId]);
      return row && fromRawRun(row);
    },

    /** The most recently created run of (workflow, foreignId), finished or not, or undefined. */
    async latest(workflow: string, foreignId: string): Promise<RunRecord | undefined> {
      const [row] = await q
        .select()
        .from(r)
        .where(and(eq(r.workflow, workflow), eq(r.foreignId, foreignId)))
        .orderBy(desc(r.createdAt), desc(r.runId))
        .limit(1);
      return row && toRunRecord(row);
    },

    /** Every change of the run, oldest first (empty for an unknown run). */
    async history(runId: string): Promise<HistoryEntry[]> {
      const rows = await q.select().from(workflowHistory).where(eq(workflowHistory.runId, runId)).orderBy(asc(workflowHistory.id));
      return rows.map(toHistoryEntry);
    },

    /** One page of runs matching every given filter, keyset-paged on (createdAt, runId). Invalid on a bad limit, state or cursor. */
    async list(query: ListRunsQuery = {}): Promise<RunPage> {
      const order = query.order ?? 'desc';
      const limit = pageLimit(query.limit);
      if (query.runState !== undefined && !RUN_STATES.includes(query.runState)) throw new Invalid(`unknown run state '${query.runState}'`, [{ path: 'runState', message: `one of ${RUN_STATES.join(', ')}` }]);
      const where: (SQL | undefined)[] = [
        query.workflow !== undefined ? eq(r.workflow, query.workflow) : undefined,
        query.foreignId !== undefined ? eq(r.foreignId, query.foreignId) : undefined,
        query.status !== undefined ? eq(r.status, query.status) : undefined,
        query.runState !== undefined ? eq(r.runState, query.runState) : undefined,
        query.createdAfter ? gte(r.createdAt, query.createdAfter) : undefined,
        query.createdBefore ? lt(r.createdAt, query.createdBefore) : undefined,
      ];
      if (query.cursor) {
        const c = decodeCursor(query.cursor, order);
        // A row comparison, so the (created_at, run_id) index serves it; the ISO string keeps postgres.js from
        // choking on a Date inside a raw sql fragment.
        const key = sql`(${r.createdAt}, ${r.runId})`;
        const at = sql`(${c.at.toISOString()}::timestamptz, ${c.id})`;
        where.push(order === 'asc' ? sql`${key} > ${at}` : sql`${key} < ${at}`);
      }
      const by = order === 'asc' ? [asc(r.createdAt), asc(r.runId)] : [desc(r.createdAt), desc(r.runId)];
      // One extra row tells whether another page exists without a count.
      const rows = await replica.select().from(r).where(and(...where)).orderBy(...by).limit(limit + 1);
      const page = cutPage(rows, limit, order, (row) => ({ at: row.createdAt, id: row.runId }));
      return { runs: page.items.map(toRunRecord), nextCursor: page.nextCursor };
    },

    /** How many runs are in each run state (every state listed, zeros included), of one workflow or of all. */
    async countByRunState(workflow?: string): Promise<Record<RunState, number>> {
      const rows = await replica
        .select({ runState: r.runState, n: sql<number>`count(*)::int` })
        .from(r)
        .where(workflow !== undefined ? eq(r.workflow, workflow) : undefined)
        .groupBy(r.runState);
      const counts = Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>;
      for (const row of rows) counts[row.runState] = Number(row.n);
      return counts;
    },

    /** countByRunState of every workflow that has runs, in one query (the console's definitions page). */
    async countByWorkflowAndRunState(): Promise<Record<string, Record<RunState, number>>> {
      const rows = await q
        .select({ workflow: r.workflow, runState: r.runState, n: sql<number>`count(*)::int` })
        .from(r)
        .groupBy(r.workflow, r.runState);
      const out: Record<string, Record<RunState, number>> = Object.create(null);
      for (const row of rows) {
        out[row.workflow] ??= Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>;
        out[row.workflow]![row.runState] = Number(row.n);
      }
      return out;
    },

    /** Running runs at (workflow, status), oldest first: the step consumers' catch-up sweep. */
    /** Active runs (initiated, running, paused) of a workflow per status. */
    async activeRunsByStatus(workflow: string): Promise<Record<string, number>> {
      const rows = await q
        .select({ status: r.status, n: sql<number>`count(*)::int` })
        .from(r)
        .where(and(eq(r.workflow, workflow), inArray(r.runState, [...ACTIVE_RUN_STATES])))
        .groupBy(r.status);
      return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
    },

    async runsAt(workflow: string, status: string, limit: number): Promise<RunRecord[]> {
      const rows = await q
        .select()
        .from(r)
        .where(and(eq(r.workflow, workflow), eq(r.status, status), eq(r.runState, 'running')))
        .orderBy(asc(r.createdAt), asc(r.runId))
        .limit(limit);
      return rows.map(toRunRecord);
    },

    /** Paused runs last changed before `before`, longest paused first: the automatic resume sweep. */
    // The literal (not a bound parameter) lets every plan, generic ones too, use the partial index.
    async pausedByErrorsBefore(before: Date, limit: number): Promise<RunRecord[]> {
      // Filtered in SQL: runs paused through the API would otherwise fill every page and starve the ones to resume.
      const rows = await q
        .select()
        .from(r)
        .where(and(sql`${r.runState} = 'paused'`, lt(r.updatedAt, before), like(r.reason, `${ERROR_PAUSE_PREFIX}%`)))
        .orderBy(asc(r.updatedAt))
        .limit(limit);
      return rows.map(toRunRecord);
    },
  };
}
