/**
 * The cascades store over the kernel Database (PostgreSQL or PGlite). Every write a worker makes names the epoch
 * it claimed the session with and requires status 'running', so a worker that lost the session writes nothing.
 */
import { newId, notifyOutboxWritten, NotFound, OUTBOX_NOTIFY_SQL, outboxInsertFromJson, toOutboxJsonRows, type Database } from '../../../kernel/index.ts';
import type { CascadeDefinition } from '../model/definition.ts';
import { SessionBlocked, SessionCancelled, SessionFailed, SessionRecovered, SessionSignalled, SessionStarted } from '../model/events.ts';
import type { CheckpointData, HumanCheckpoint, LogEntry, Session, SessionStatus } from '../model/session.ts';
import { insertEventFromSql } from './event-sql.ts';
import { iso, json, toHumanCheckpoint, toSession } from './rows.ts';
import { TURN_SQL, type PreparedTurn } from './turn-write.ts';

const J = (v: unknown) => JSON.stringify(v ?? null);

/** Appends the outbox rows of `events` (JSON array parameter `param`) for each row of CTE `from`, in order. */
function eventsCte(param: string, from: string): string {
  return `${outboxInsertFromJson('e.ev')} FROM ${from}, jsonb_array_elements((${param}::text)::jsonb) WITH ORDINALITY AS e(ev, n) ORDER BY e.n`;
}

/** A saved definition. */
export interface StoredDefinition {
  cascadeId: string;
  spec: CascadeDefinition;
  version: number;
  updatedAt: string;
}

/** A log row as read back. */
export interface LogRow extends LogEntry {
  id: number;
  createdAt: string;
}

/** A question a session parks on: `expiresAt` is computed on the kernel clock (none: it waits until answered). */
export interface ParkedQuestion {
  id: string;
  phase: string;
  prompt: string;
  onTimeout: HumanCheckpoint['onTimeout'];
  expiresAt?: Date;
}

/** Filters of the session list. */
export interface SessionQuery {
  status?: SessionStatus;
  cascade?: string;
  /** Only the children of this session. */
  parent?: string;
  limit?: number;
}

/** The store. One instance per process; stateless apart from the database handle. */
export class CascadeStore {
  constructor(private readonly db: Database) {}

  /** Creates or replaces a definition; returns its new version. */
  async putDefinition(spec: CascadeDefinition): Promise<number> {
    const rows = await this.db.query<{ version: number }>(
      `INSERT INTO cascades_definitions (cascade_id, spec) VALUES ($1::text, ($2::text)::jsonb)
       ON CONFLICT (cascade_id) DO UPDATE SET spec = EXCLUDED.spec, version = cascades_definitions.version + 1, updated_at = now()
       RETURNING version`,
      [spec.cascade_id, J(spec)],
    );
    return Number(rows[0]!.version);
  }

  /** A definition, or undefined. */
  async getDefinition(id: string): Promise<StoredDefinition | undefined> {
    const rows = await this.db.query('SELECT * FROM cascades_definitions WHERE cascade_id = $1::text', [id]);
    const r = rows[0];
    return r && { cascadeId: String(r.cascade_id), spec: json(r.spec), version: Number(r.version), updatedAt: iso(r.updated_at)! };
  }

  /** Every definition, by id. */
  async listDefinitions(): Promise<StoredDefinition[]> {
    const rows = await this.db.query('SELECT * FROM cascades_definitions ORDER BY cascade_id LIMIT 1000');
    return rows.map((r) => ({ cascadeId: String(r.cascade_id), spec: json(r.spec), version: Number(r.version), updatedAt: iso(r.updated_at)! }));
  }

  /** Definitions that declare triggers (the trigger loop reads these every second; the others stay in the table). */
  async definitionsWithTriggers(): Promise<StoredDefinition[]> {
    const rows = await this.db.query(`SELECT * FROM cascades_definitions WHERE jsonb_typeof(spec->'triggers') = 'array' AND jsonb_array_length(spec->'triggers') > 0 ORDER BY cascade_id LIMIT 1000`);
    return rows.map((r) => ({ cascadeId: String(r.cascade_id), spec: json(r.spec), version: Number(r.version), updatedAt: iso(r.updated_at)! }));
  }

  /** Creates a session in status 'starting' with a copy of the definition, and its `started` event, in one statement. */
  async createSession(id: string, spec: CascadeDefinition, inputs: Record<string, unknown>): Promise<Session> {
    const events = toOutboxJsonRows([SessionStarted.outbox({ sessionId: id, cascadeId: spec.cascade_id, inputs })], id);
    const rows = await this.db.query(
      `WITH s AS (INSERT INTO cascades_sessions (id, cascade_id, spec, status, current_phase, inputs)
         VALUES ($1::text, $2::text, ($3::text)::jsonb, 'starting', $4::text, ($5::text)::jsonb) RETURNING *),
       ev AS (${eventsCte('$6', 's')})
       SELECT s.*, ${OUTBOX_NOTIFY_SQL} AS notified FROM s`,
      [id, spec.cascade_id, J(spec), spec.phases[0]!.name, J(inputs), J(events)],
    );
    notifyOutboxWritten();
    return toSession(rows[0]!);
  }

  /** A session, or NotFound. */
  async getSession(id: string): Promise<Session> {
    const rows = await this.db.query('SELECT * FROM cascades_sessions WHERE id = $1::text', [id]);
    if (!rows[0]) throw new NotFound(`session '${id}'`);
    return toSession(rows[0]);
  }

  /** Sessions, newest first. */
  async listSessions(q: SessionQuery = {}): Promise<Session[]> {
    const rows = await this.db.query(
      `SELECT * FROM cascades_sessions WHERE ($1::text IS NULL OR status = $1::text) AND ($2::text IS NULL OR cascade_id = $2::text)
         AND ($4::text IS NULL OR parent_session_id = $4::text)
       ORDER BY created_at DESC, id DESC LIMIT $3::int`,
      [q.status ?? null, q.cascade ?? null, q.limit ?? 100, q.parent ?? null],
    );
    return rows.map(toSession);
  }

  /** Sessions per status (the metrics gauge reads this at scrape time). */
  async countByStatus(): Promise<Partial<Record<SessionStatus, number>>> {
    const rows = await this.db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM cascades_sessions GROUP BY status');
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  /**
   * Takes the session for `owner`: a new or orphaned session, or a running one whose heartbeat is older than
   * `leaseMs` (its worker died before the sweeper saw it). Raises the epoch; undefined when someone else has it.
   */
  async claim(id: string, owner: string, leaseMs: number): Promise<{ session: Session; checkpoint: CheckpointData | undefined } | undefined> {
    // The newest checkpoint comes with the claim: one round trip before the first LLM call instead of two.
    const rows = await this.db.query(
      `WITH s AS (UPDATE cascades_sessions SET status = 'running', owner = $2::text, epoch = epoch + 1, heartbeat_at = now(), updated_at = now(), waiting_children = NULL
         WHERE id = $1::text AND (status IN ('starting', 'orphaned') OR (status = 'running' AND heartbeat_at < now() - $3::int * interval '1 millisecond'))
         RETURNING *)
       SELECT s.*, (SELECT c.data FROM cascades_checkpoints c WHERE c.session_id = s.id ORDER BY c.id DESC LIMIT 1) AS last_checkpoint FROM s`,
      [id, owner, leaseMs],
    );
    const r = rows[0];
    if (!r) return undefined;
    return { session: toSession(r), checkpoint: r.last_checkpoint === null || r.last_checkpoint === undefined ? undefined : json<CheckpointData>(r.last_checkpoint) };
  }

  /** Renews the heartbeat and takes the pending signals; undefined when this epoch no longer runs the session. */
  async beat(id: string, epoch: number): Promise<string[] | undefined> {
    const rows = await this.db.query<{ signals: unknown }>(
      `WITH old AS (SELECT id, signals FROM cascades_sessions WHERE id = $1::text AND epoch = $2::int AND status = 'running' FOR UPDATE)
       UPDATE cascades_sessions s SET heartbeat_at = now(), signals = '[]'::jsonb FROM old WHERE s.id = old.id RETURNING old.signals`,
      [id, epoch],
    );
    return rows[0] ? json<string[]>(rows[0].signals) : undefined;
  }

  /**
   * Applies a prepared turn write (see turn-write.ts): the session's total cost after it, or undefined when this
   * epoch no longer runs the session (cancelled, or taken over) and nothing was written.
   */
  async writeTurn(p: PreparedTurn): Promise<number | undefined> {
    const rows = await this.db.query<{ cost: number }>(TURN_SQL, p.params);
    if (!rows[0]) return undefined;
    if (p.hasEvents) notifyOutboxWritten();
    return Number(rows[0].cost);
  }

  /** Parks a running session on a new human checkpoint; false when fenced out. */
  async block(id: string, epoch: number, cascadeId: string, cp: ParkedQuestion): Promise<boolean> {
    const events = toOutboxJsonRows([SessionBlocked.outbox({ sessionId: id, cascadeId, phase: cp.phase, checkpointId: cp.id, prompt: cp.prompt })], id);
    const rows = await this.db.query(
      `WITH s AS (UPDATE cascades_sessions SET status = 'blocked', owner = NULL, updated_at = now() WHERE id = $1::text AND epoch = $2::int AND status = 'running' RETURNING id),
       h AS (INSERT INTO cascades_human_checkpoints (id, session_id, phase, prompt, status, on_timeout, expires_at)
         SELECT $3::text, s.id, $4::text, $5::text, 'pending', $6::text, $7::timestamptz FROM s),
       ev AS (${eventsCte('$8', 's')})
       SELECT s.id, ${OUTBOX_NOTIFY_SQL} AS notified FROM s`,
      [id, epoch, cp.id, cp.phase, cp.prompt, cp.onTimeout, cp.expiresAt?.toISOString() ?? null, J(events)],
    );
    if (rows.length === 0) return false;
    notifyOutboxWritten();
    return true;
  }

  /** A human checkpoint by id, or undefined. */
  async getHumanCheckpoint(cpId: string): Promise<HumanCheckpoint | undefined> {
    const rows = await this.db.query('SELECT * FROM cascades_human_checkpoints WHERE id = $1::text', [cpId]);
    return rows[0] && toHumanCheckpoint(rows[0]);
  }

  /** Human checkpoints, optionally by status, newest first. */
  async listHumanCheckpoints(status?: string): Promise<HumanCheckpoint[]> {
    const rows = await this.db.query('SELECT * FROM cascades_human_checkpoints WHERE ($1::text IS NULL OR status = $1::text) ORDER BY created_at DESC LIMIT 500', [status ?? null]);
    return rows.map(toHumanCheckpoint);
  }

  /**
   * Closes a pending human checkpoint (answered, or timed out) and hands its blocked session back to the queue
   * (status 'starting'); undefined when it was not pending (answered already, cancelled) or does not exist.
   */
  async closeHumanCheckpoint(cpId: string, status: 'answered' | 'timed_out', response: unknown): Promise<{ sessionId: string } | undefined> {
    const rows = await this.db.query<{ session_id: string }>(
      `WITH h AS (UPDATE cascades_human_checkpoints SET status = $2::text, response = ($3::text)::jsonb, answered_at = now() WHERE id = $1::text AND status = 'pending' RETURNING session_id)
       UPDATE cascades_sessions s SET status = 'starting', updated_at = now() FROM h WHERE s.id = h.session_id AND s.status = 'blocked' RETURNING s.id AS session_id`,
      [cpId, status, J({ value: response })],
    );
    return rows[0] && { sessionId: String(rows[0].session_id) };
  }

  /** Pending human checkpoints whose timeout has passed at `now` (the kernel clock's time, so a fake clock moves it). */
  async expiredHumanCheckpoints(now: Date, limit = 100): Promise<HumanCheckpoint[]> {
    const rows = await this.db.query(`SELECT * FROM cascades_human_checkpoints WHERE status = 'pending' AND expires_at <= $1::timestamptz ORDER BY expires_at LIMIT $2::int`, [now.toISOString(), limit]);
    return rows.map(toHumanCheckpoint);
  }

  /**
   * Cancels a session that has not ended, with its `cancelled` event (on which the worker running it aborts);
   * returns it, or undefined when it had ended already.
   */
  async cancel(id: string, reason: string): Promise<Session | undefined> {
    const rows = await this.db.query(
      `WITH s AS (UPDATE cascades_sessions SET status = 'cancelled', error = $2::text, finished_at = now(), updated_at = now(), owner = NULL
         WHERE id = $1::text AND status NOT IN ('completed', 'error', 'cancelled') RETURNING *),
       h AS (UPDATE cascades_human_checkpoints SET status = 'cancelled' WHERE session_id IN (SELECT id FROM s) AND status = 'pending'),
       ev AS (${insertEventFromSql(SessionCancelled.type, '$3::text', `jsonb_build_object('sessionId', s.id, 'cascadeId', s.cascade_id, 'reason', $2::text)`, 's.id')} FROM s)
       SELECT s.*, ${OUTBOX_NOTIFY_SQL} AS notified FROM s`,
      [id, reason, newId()],
    );
    if (!rows[0]) return undefined;
    notifyOutboxWritten();
    return toSession(rows[0]);
  }

  /** Queues a signal for the session's next turn, with its `signalled` event; false when the session has ended. */
  async signal(id: string, text: string): Promise<boolean> {
    const rows = await this.db.query(
      `WITH s AS (UPDATE cascades_sessions SET signals = signals || jsonb_build_array($2::text), updated_at = now() WHERE id = $1::text AND status NOT IN ('completed', 'error', 'cancelled') RETURNING id, cascade_id),
       ev AS (${insertEventFromSql(SessionSignalled.type, '$3::text', `jsonb_build_object('sessionId', s.id, 'cascadeId', s.cascade_id, 'text', $2::text)`, 's.id')} FROM s)
       SELECT s.id, ${OUTBOX_NOTIFY_SQL} AS notified FROM s`,
      [id, text, newId()],
    );
    if (rows.length !== 1) return false;
    notifyOutboxWritten();
    return true;
  }

  /**
   * Marks running sessions whose heartbeat is older than `leaseMs` as orphaned (or error once `maxRecoveries` is
   * spent) and returns them; one statement, so two sweepers never take the same session.
   */
  async sweepOrphans(leaseMs: number, maxRecoveries: number, limit = 100): Promise<Session[]> {
    // Each moved session's event (recovered, or failed once its recoveries are spent) commits with the move; its id
    // names the session and the attempt, so it is one event whoever writes it.
    const eventId = `s.id || '.sweep.' || s.recoveries`;
    const rows = await this.db.query(
      `WITH s AS (UPDATE cascades_sessions SET status = CASE WHEN recoveries < $2::int THEN 'orphaned' ELSE 'error' END,
         error = CASE WHEN recoveries < $2::int THEN error ELSE 'worker lost ' || (recoveries + 1) || ' times; recovery attempts spent' END,
         finished_at = CASE WHEN recoveries < $2::int THEN NULL ELSE now() END,
         recoveries = recoveries + 1, owner = NULL, updated_at = now()
       WHERE id IN (SELECT id FROM cascades_sessions WHERE status = 'running' AND heartbeat_at < now() - $1::int * interval '1 millisecond' ORDER BY heartbeat_at LIMIT $3::int FOR UPDATE SKIP LOCKED)
       RETURNING *),
       recovered AS (${insertEventFromSql(SessionRecovered.type, eventId, `jsonb_build_object('sessionId', s.id, 'cascadeId', s.cascade_id, 'attempt', s.recoveries, 'phase', s.current_phase)`, 's.id')} FROM s WHERE s.status = 'orphaned'),
       failed AS (${insertEventFromSql(SessionFailed.type, eventId, `jsonb_build_object('sessionId', s.id, 'cascadeId', s.cascade_id, 'phase', s.current_phase, 'reason', s.error)`, 's.id')} FROM s WHERE s.status = 'error')
       SELECT s.*, ${OUTBOX_NOTIFY_SQL} AS notified FROM s`,
      [leaseMs, maxRecoveries, limit],
    );
    if (rows.length > 0) notifyOutboxWritten();
    return rows.map(toSession);
  }

  /** Sessions waiting for a worker (new or orphaned) longer than `ms`: their job may have been lost. */
  async waitingSince(ms: number, limit = 100): Promise<Session[]> {
    const rows = await this.db.query(
      `SELECT * FROM cascades_sessions WHERE status IN ('starting', 'orphaned') AND updated_at < now() - $1::int * interval '1 millisecond' ORDER BY updated_at LIMIT $2::int`,
      [ms, limit],
    );
    return rows.map(toSession);
  }

  /**
   * Deletes up to `limit` sessions that ended more than `olderThanMs` ago, with their checkpoints, logs, costs,
   * human checkpoints and artifacts, in one statement; returns how many sessions went.
   */
  async deleteEnded(olderThanMs: number, limit = 500): Promise<number> {
    const rows = await this.db.query<{ n: number }>(
      `WITH gone AS (DELETE FROM cascades_sessions WHERE id IN (
           SELECT id FROM cascades_sessions WHERE status IN ('completed', 'error', 'cancelled') AND finished_at < now() - $1::bigint * interval '1 millisecond'
           ORDER BY finished_at LIMIT $2::int FOR UPDATE SKIP LOCKED)
         RETURNING id),
       cp AS (DELETE FROM cascades_checkpoints WHERE session_id IN (SELECT id FROM gone)),
       lg AS (DELETE FROM cascades_logs WHERE session_id IN (SELECT id FROM gone)),
       c AS (DELETE FROM cascades_costs WHERE session_id IN (SELECT id FROM gone)),
       h AS (DELETE FROM cascades_human_checkpoints WHERE session_id IN (SELECT id FROM gone)),
       a AS (DELETE FROM cascades_artifacts WHERE session_id IN (SELECT id FROM gone))
       SELECT count(*)::int AS n FROM gone`,
      [olderThanMs, limit],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Log rows of a session after `afterId`, oldest first. */
  async logs(id: string, afterId = 0, limit = 500): Promise<LogRow[]> {
    const rows = await this.db.query('SELECT * FROM cascades_logs WHERE session_id = $1::text AND id > $2::bigint ORDER BY id LIMIT $3::int', [id, afterId, limit]);
    return rows.map((r) => ({
      id: Number(r.id),
      phase: (r.phase as string | null) ?? null,
      turn: r.turn === null ? null : Number(r.turn),
      kind: String(r.kind),
      soundingIndex: r.sounding_index === null ? undefined : Number(r.sounding_index),
      winner: r.winner === null ? undefined : r.winner === 'true',
      model: (r.model as string | null) ?? undefined,
      tokensIn: r.tokens_in === null ? undefined : Number(r.tokens_in),
      tokensOut: r.tokens_out === null ? undefined : Number(r.tokens_out),
      cost: r.cost === null ? null : Number(r.cost),
      durationMs: r.duration_ms === null ? undefined : Number(r.duration_ms),
      content: r.content === null ? undefined : json(r.content),
      createdAt: iso(r.created_at)!,
    }));
  }

  /** Costs of a session by model. */
  async costs(id: string): Promise<{ model: string; calls: number; tokensIn: number; tokensOut: number; cost: number }[]> {
    const rows = await this.db.query(
      'SELECT model, count(*)::int AS calls, sum(tokens_in)::int AS tin, sum(tokens_out)::int AS tout, coalesce(sum(cost), 0)::float8 AS cost FROM cascades_costs WHERE session_id = $1::text GROUP BY model ORDER BY model',
      [id],
    );
    return rows.map((r) => ({ model: String(r.model), calls: Number(r.calls), tokensIn: Number(r.tin), tokensOut: Number(r.tout), cost: Number(r.cost) }));
  }
}
