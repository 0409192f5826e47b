/**
 * Child sessions (for_each_row, run_cascade, async_cascades, cascade validators) and the parent's wait for them.
 * A child's id is derived from the parent's (phase, visit, row or call), and its insert does nothing when the id
 * exists, so a parent resumed after a crash never starts a child twice. A parent waits blocked, holding no job: it is
 * woken (status 'starting') when fewer than `waiting_children` of its waited-for children are still running.
 */
import { notifyOutboxWritten, OUTBOX_NOTIFY_SQL, outboxInsertFromJson, toOutboxJsonRows, type Database } from '../../../kernel/index.ts';
import type { CascadeDefinition } from '../model/definition.ts';
import { SessionStarted } from '../model/events.ts';
import type { LogEntry, Session } from '../model/session.ts';
import { toSession } from './rows.ts';

const J = (v: unknown) => JSON.stringify(v ?? null);
const ENDED = `('completed', 'error', 'cancelled')`;

/** A child to create. */
export interface NewChild {
  id: string;
  spec: CascadeDefinition;
  inputs: Record<string, unknown>;
}

/** What `waitFor` did. */
export type WaitOutcome = 'blocked' | 'go-on' | 'fenced';

/** The children of sessions, over the kernel Database. */
export class ChildSessionStore {
  constructor(private readonly db: Database) {}

  /** Creates the children that do not exist yet (each with its `started` event); returns the ids created now. */
  async create(parentId: string, kids: NewChild[], detached: boolean): Promise<string[]> {
    const created: string[] = [];
    for (const k of kids) {
      const events = toOutboxJsonRows([SessionStarted.outbox({ sessionId: k.id, cascadeId: k.spec.cascade_id, inputs: k.inputs })], k.id);
      const rows = await this.db.query<{ id: string }>(
        `WITH s AS (INSERT INTO cascades_sessions (id, cascade_id, spec, status, current_phase, inputs, parent_session_id, detached, depth)
           SELECT $1::text, $2::text, ($3::text)::jsonb, 'starting', $4::text, ($5::text)::jsonb, $6::text, $7::boolean, coalesce((SELECT depth + 1 FROM cascades_sessions WHERE id = $6::text), 1)
           ON CONFLICT (id) DO NOTHING RETURNING id),
         ev AS (${outboxInsertFromJson('e.ev')} FROM s, jsonb_array_elements(($8::text)::jsonb) WITH ORDINALITY AS e(ev, n) ORDER BY e.n)
         SELECT s.id, ${OUTBOX_NOTIFY_SQL} AS notified FROM s`,
        [k.id, k.spec.cascade_id, J(k.spec), k.spec.phases[0]!.name, J(k.inputs), parentId, detached, J(events)],
      );
      if (rows[0]) created.push(k.id);
    }
    if (created.length > 0) notifyOutboxWritten();
    return created;
  }

  /** How deep a session is (0 for one a user started), or undefined when it does not exist. */
  async depthOf(id: string): Promise<number | undefined> {
    const rows = await this.db.query<{ depth: number }>('SELECT depth FROM cascades_sessions WHERE id = $1::text', [id]);
    return rows[0] && Number(rows[0].depth);
  }

  /** Children of `parentId` whose id starts with `prefix` (one phase visit's children). */
  async list(parentId: string, prefix: string): Promise<Session[]> {
    const rows = await this.db.query('SELECT * FROM cascades_sessions WHERE parent_session_id = $1::text AND starts_with(id, $2::text) ORDER BY id', [parentId, prefix]);
    return rows.map(toSession);
  }

  /** How many children of one phase visit (ids starting with `prefix`) exist and how many of them have ended. */
  async progress(parentId: string, prefix: string): Promise<{ started: number; ended: number }> {
    const rows = await this.db.query<{ started: number; ended: number }>(
      `SELECT count(*)::int AS started, (count(*) FILTER (WHERE status IN ${ENDED}))::int AS ended FROM cascades_sessions WHERE parent_session_id = $1::text AND starts_with(id, $2::text)`,
      [parentId, prefix],
    );
    return { started: Number(rows[0]!.started), ended: Number(rows[0]!.ended) };
  }

  /** Sessions by id (a parent reading the children it waits for). */
  async byIds(ids: string[]): Promise<Session[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.query('SELECT * FROM cascades_sessions WHERE id IN (SELECT jsonb_array_elements_text(($1::text)::jsonb))', [J(ids)]);
    return rows.map(toSession);
  }

  /**
   * Parks the running session (epoch-fenced) until fewer than `running` of its waited-for children are still
   * running; 'go-on' when that is already so (a child ended meanwhile), 'fenced' when the session is not ours.
   */
  async waitFor(id: string, epoch: number, running: number): Promise<WaitOutcome> {
    const rows = await this.db.query<{ owned: boolean; blocked: number }>(
      `WITH s AS (UPDATE cascades_sessions SET status = 'blocked', owner = NULL, waiting_children = $3::int, updated_at = now()
         WHERE id = $1::text AND epoch = $2::int AND status = 'running'
           AND (SELECT count(*) FROM cascades_sessions c WHERE c.parent_session_id = $1::text AND NOT c.detached AND c.status NOT IN ${ENDED}) >= $3::int
         RETURNING id)
       SELECT EXISTS (SELECT 1 FROM cascades_sessions WHERE id = $1::text AND epoch = $2::int AND status = 'running') AS owned, (SELECT count(*) FROM s)::int AS blocked`,
      [id, epoch, running],
    );
    const r = rows[0]!;
    if (Number(r.blocked) > 0) return 'blocked';
    return r.owned ? 'go-on' : 'fenced';
  }

  /** Wakes the blocked parent when its wait is over; true when this call woke it (the caller queues it). */
  async wakeParent(parentId: string): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE cascades_sessions p SET status = 'starting', waiting_children = NULL, updated_at = now()
       WHERE p.id = $1::text AND p.status = 'blocked' AND p.waiting_children IS NOT NULL
         AND (SELECT count(*) FROM cascades_sessions c WHERE c.parent_session_id = p.id AND NOT c.detached AND c.status NOT IN ${ENDED}) < p.waiting_children
       RETURNING p.id`,
      [parentId],
    );
    return rows.length > 0;
  }

  /**
   * Blocked parents whose wait is over but who were not woken (the child's worker died between its end and the wake,
   * or a child ended while its parent was about to block): the sweeper wakes them and returns their ids.
   */
  async wakeOverdue(limit = 100): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `UPDATE cascades_sessions p SET status = 'starting', waiting_children = NULL, updated_at = now()
       WHERE p.id IN (SELECT w.id FROM cascades_sessions w WHERE w.status = 'blocked' AND w.waiting_children IS NOT NULL
           AND (SELECT count(*) FROM cascades_sessions c WHERE c.parent_session_id = w.id AND NOT c.detached AND c.status NOT IN ${ENDED}) < w.waiting_children
           LIMIT $1::int FOR UPDATE SKIP LOCKED)
         AND p.status = 'blocked'
       RETURNING p.id`,
      [limit],
    );
    return rows.map((r) => String(r.id));
  }

  /** Appends a log row to a session whatever its status (an async child's result on its parent). */
  async appendLog(sessionId: string, e: LogEntry): Promise<void> {
    await this.db.query('INSERT INTO cascades_logs (session_id, phase, turn, kind, content) VALUES ($1::text, $2::text, $3::int, $4::text, ($5::text)::jsonb)', [sessionId, e.phase, e.turn, e.kind, J(e.content)]);
  }

  /** Children of a session that have not ended (a cancelled parent cancels them). */
  async running(parentId: string): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(`SELECT id FROM cascades_sessions WHERE parent_session_id = $1::text AND status NOT IN ${ENDED}`, [parentId]);
    return rows.map((r) => String(r.id));
  }
}

/** A child's result: the output of the last phase it completed (null when none). */
export function resultOf(s: Session): unknown {
  const last = s.completed[s.completed.length - 1];
  return last === undefined ? null : (s.outputs[last] ?? null);
}
