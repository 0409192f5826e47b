/**
 * The agents store over the kernel Database (PostgreSQL or PGlite). Every write a worker makes names the epoch it
 * claimed the agent with, so a worker that lost the agent (presumed dead and resumed elsewhere, killed) writes nothing.
 */
import { notifyOutboxWritten, NotFound, OUTBOX_NOTIFY_SQL, txQuery, type Database, type OutboxEvent } from '../../../kernel/index.ts';
import type { Agent, AgentCheckpoint, AgentLogEntry, AgentSpec, AgentStatus } from '../model/agent.ts';
import { outboxCte, outboxRows } from './outbox-sql.ts';
import { iso, json, toAgent } from './rows.ts';

const J = (v: unknown) => JSON.stringify(v ?? null);
/** Statuses a worker may still write in: a pause or resume between the LLM call and the save keeps the turn. */
const LIVE = `('running', 'paused', 'queued')`;

/** A new agent's row. */
export interface NewAgent {
  id: string;
  repo: string;
  baseBranch: string;
  branch: string;
  worktree: string;
  spec: AgentSpec;
  priority: number;
  swarmId?: string;
}

/** One turn's writes, applied in one statement. */
export interface TurnWrite {
  checkpoint: AgentCheckpoint;
  tokensIn: number;
  tokensOut: number;
  cost: number;
  budgetWarned: boolean;
  logs: AgentLogEntry[];
}

/** A log row as read back. */
export interface LogRow extends AgentLogEntry {
  id: number;
  createdAt: string;
}

/** An audit row as read back. */
export interface AuditRow {
  id: number;
  agentId: string;
  tool: string;
  rule: string;
  detail: string;
  createdAt: string;
}

/** Filters of the agent list. */
export interface AgentQuery {
  status?: AgentStatus;
  swarm?: string;
  limit?: number;
}

const LOG_INSERT = (agentParam: string, logsParam: string) => `
  INSERT INTO agents_logs (agent_id, turn, kind, content, tokens_in, tokens_out, cost, duration_ms)
  SELECT ${agentParam}, l.turn, l.kind, l.content, l."tokensIn", l."tokensOut", l.cost, l."durationMs"
  FROM jsonb_to_recordset((${logsParam})::jsonb) AS l(turn int, kind text, content jsonb, "tokensIn" int, "tokensOut" int, cost double precision, "durationMs" int)`;

/** The store. One instance per process; stateless apart from the database handle. */
export class AgentStore {
  constructor(private readonly db: Database) {}

  /**
   * Creates an agent in status 'queued'; undefined when the id exists (a swarm's agents have ids of their own making).
   * `event` (agents.agent.queued, and the swarm step the agent begins) goes into the kernel outbox in the same
   * statement, only when the row was made.
   */
  async create(a: NewAgent, event: OutboxEvent | readonly OutboxEvent[]): Promise<Agent | undefined> {
    const rows = await this.db.query(
      `WITH upd AS (
         INSERT INTO agents_agents (id, status, repo, base_branch, branch, worktree, spec, priority, swarm_id)
         VALUES ($1::text, 'queued', $2::text, $3::text, $4::text, $5::text, ($6::text)::jsonb, $7::int, $8::text)
         ON CONFLICT (id) DO NOTHING RETURNING *
       ), ${outboxCte('$9')}
       SELECT upd.*, (SELECT count(*) FROM ob) AS events FROM upd`,
      [a.id, a.repo, a.baseBranch, a.branch, a.worktree, J(a.spec), a.priority, a.swarmId ?? null, outboxRows(event, a.id)],
    );
    if (rows[0]) notifyOutboxWritten();
    return rows[0] && toAgent(rows[0]);
  }

  /** An agent, or NotFound. */
  async get(id: string): Promise<Agent> {
    const rows = await this.db.query('SELECT * FROM agents_agents WHERE id = $1::text', [id]);
    if (!rows[0]) throw new NotFound(`agent '${id}'`);
    return toAgent(rows[0]);
  }

  /** Agents, newest first. */
  async list(q: AgentQuery = {}): Promise<Agent[]> {
    const rows = await this.db.query(
      `SELECT * FROM agents_agents WHERE ($1::text IS NULL OR status = $1::text) AND ($2::text IS NULL OR swarm_id = $2::text)
       ORDER BY created_at DESC, id DESC LIMIT $3::int`,
      [q.status ?? null, q.swarm ?? null, q.limit ?? 100],
    );
    return rows.map(toAgent);
  }

  /**
   * Takes a queued agent for this worker (epoch + 1); returns it with its checkpoint, or undefined when it is not queued,
   * or when a limit is reached: `project` (its running agents < maxConcurrent) or `swarm` (its running agents < max).
   */
  async claim(id: string, owner: string, project?: { name: string; maxConcurrent: number }, swarm?: { id: string; maxRunning: number }): Promise<{ agent: Agent; checkpoint: AgentCheckpoint } | undefined> {
    // clock_timestamp(), not now(): a limited claim waits for its lock, and started_at must be after the count it passed
    // (the interval [started_at, finished_at] is when the agent held a slot).
    const update = `UPDATE agents_agents SET status = 'running', owner = $2::text, epoch = epoch + 1, heartbeat_at = now(), updated_at = now(),
         started_at = coalesce(started_at, clock_timestamp())
       WHERE id = $1::text AND status = 'queued'`;
    let rows: Record<string, unknown>[];
    if (!project && !swarm) rows = await this.db.query(`${update} RETURNING *`, [id, owner]);
    else {
      // Instances claim a project's (a swarm's) agents one at a time, under a transaction-scoped advisory lock on it, and
      // count after the lock, so two claims can never both take the last slot. Locks are taken project first, then
      // swarm, always in that order, so two claims cannot wait for each other.
      rows = await this.db.transaction(async (tx) => {
        const q = txQuery(tx);
        const params: unknown[] = [id, owner];
        const conditions: string[] = [];
        if (project) {
          await q(`SELECT pg_advisory_xact_lock(hashtext($1::text))`, [`agents-project:${project.name}`]);
          params.push(project.name, project.maxConcurrent);
          conditions.push(`(SELECT count(*) FROM agents_agents WHERE status = 'running' AND spec->>'project' = $${params.length - 1}::text) < $${params.length}::int`);
        }
        if (swarm) {
          await q(`SELECT pg_advisory_xact_lock(hashtext($1::text))`, [`agents-swarm:${swarm.id}`]);
          params.push(swarm.id, swarm.maxRunning);
          conditions.push(`(SELECT count(*) FROM agents_agents WHERE status = 'running' AND swarm_id = $${params.length - 1}::text) < $${params.length}::int`);
        }
        return q<Record<string, unknown>>(`${update} AND ${conditions.join(' AND ')} RETURNING *`, params);
      });
    }
    const r = rows[0];
    if (!r) return undefined;
    return { agent: toAgent(r), checkpoint: { turn: Number(r.turn), messages: json(r.messages) } };
  }

  /**
   * Records that the worker has the agent's worktree (and, on the first start, the commit it was made from), with
   * `event` (agents.agent.started) in the kernel outbox in the same statement; false (and no event) when fenced out.
   */
  async started(id: string, epoch: number, baseSha: string, event: OutboxEvent): Promise<boolean> {
    const rows = await this.db.query(
      `WITH upd AS (
         UPDATE agents_agents SET base_sha = coalesce(base_sha, $3::text), heartbeat_at = now(), updated_at = now() WHERE id = $1::text AND epoch = $2::int AND status IN ${LIVE} RETURNING id
       ), ${outboxCte('$4')}
       SELECT upd.id, (SELECT count(*) FROM ob) AS events FROM upd`,
      [id, epoch, baseSha, outboxRows(event, id)],
    );
    if (rows.length > 0) notifyOutboxWritten();
    return rows.length > 0;
  }

  /**
   * Saves a turn (checkpoint, spend, logs) with its `events` (agents.agent.turn, budget warning or exceeded) in the kernel
   * outbox, in one statement; returns the agent's status now, or undefined (nothing written) when this worker was fenced out.
   */
  async saveTurn(id: string, epoch: number, w: TurnWrite, events: readonly OutboxEvent[] = []): Promise<AgentStatus | undefined> {
    const rows = await this.db.query<{ status: AgentStatus }>(
      `WITH upd AS (
         UPDATE agents_agents SET turn = $3::int, messages = ($4::text)::jsonb, tokens_in = tokens_in + $5::int, tokens_out = tokens_out + $6::int,
           cost = cost + $7::float8, budget_warned = budget_warned OR $8::bool, heartbeat_at = now(), updated_at = now()
         WHERE id = $1::text AND epoch = $2::int AND status IN ${LIVE} RETURNING status
       ), logs AS (${LOG_INSERT('$1::text', '$9::text')} WHERE EXISTS (SELECT 1 FROM upd)), ${outboxCte('$10')}
       SELECT status, (SELECT count(*) FROM ob) AS events FROM upd`,
      [id, epoch, w.checkpoint.turn, J(w.checkpoint.messages), w.tokensIn, w.tokensOut, w.cost, w.budgetWarned, J(w.logs), outboxRows(events, id)],
    );
    if (rows[0] && events.length > 0) notifyOutboxWritten();
    return rows[0]?.status;
  }

  /** Appends log rows outside a turn (status changes, refusals before the first turn). */
  async log(id: string, logs: AgentLogEntry[]): Promise<void> {
    if (logs.length > 0) await this.db.query(LOG_INSERT('$1::text', '$2::text'), [id, J(logs)]);
  }

  /** Renews the worker's heartbeat; false when it no longer owns the agent. */
  async heartbeat(id: string, epoch: number): Promise<boolean> {
    const rows = await this.db.query(`UPDATE agents_agents SET heartbeat_at = now() WHERE id = $1::text AND epoch = $2::int AND status = 'running' RETURNING id`, [id, epoch]);
    return rows.length > 0;
  }

  /**
   * Ends a claimed agent (completed or failed) unless it was killed or fenced meanwhile; returns whether it did. `event`
   * (agents.agent.completed or failed) goes into the kernel outbox in the same statement, so a crash right after the
   * end is saved cannot lose it: the outbox relay publishes it.
   */
  async finish(id: string, epoch: number, status: 'completed' | 'failed', f: { result?: string | null; error?: string | null; commitSha?: string | null }, event: OutboxEvent | readonly OutboxEvent[]): Promise<boolean> {
    const rows = await this.db.query(
      `WITH upd AS (
         UPDATE agents_agents SET status = $3::text, result = coalesce($4::text, result), error = $5::text, commit_sha = coalesce($6::text, commit_sha),
           owner = NULL, updated_at = now(), finished_at = now()
         WHERE id = $1::text AND epoch = $2::int AND status IN ${LIVE} RETURNING id
       ), ${outboxCte('$7')}
       SELECT upd.id, (SELECT count(*) FROM ob) AS events FROM upd`,
      [id, epoch, status, f.result ?? null, f.error ?? null, f.commitSha ?? null, outboxRows(event, id)],
    );
    if (rows.length > 0) notifyOutboxWritten();
    return rows.length > 0;
  }

  /**
   * Queues a failed attempt again from the start (turn 0, no messages, a new wall clock), when retries are left; the
   * spend stays (the budget covers every attempt). `updated_at` is set to when the retry is due, so the sweeper does not
   * queue it before its backoff. `event` (agents.agent.retrying) goes into the outbox with it. Answers the retry number,
   * or undefined (none left, or fenced out; no event then).
   */
  async retry(id: string, epoch: number, reason: string, delayMs: number, event: OutboxEvent): Promise<number | undefined> {
    const rows = await this.db.query<{ attempt: number }>(
      `WITH upd AS (
         UPDATE agents_agents SET status = 'queued', attempt = attempt + 1, turn = 0, messages = '[]'::jsonb, error = $3::text, owner = NULL,
           heartbeat_at = NULL, started_at = NULL, updated_at = now() + ($4::int * interval '1 millisecond')
         WHERE id = $1::text AND epoch = $2::int AND status IN ${LIVE} AND attempt < coalesce((spec->>'retries')::int, 0) RETURNING attempt
       ), ${outboxCte('$5')}
       SELECT attempt, (SELECT count(*) FROM ob) AS events FROM upd`,
      [id, epoch, reason, delayMs, outboxRows(event, id)],
    );
    if (rows[0]) notifyOutboxWritten();
    return rows[0] ? Number(rows[0].attempt) : undefined;
  }

  /** Leaves a claimed agent paused (its worker stopped between turns), with `event` (agents.agent.paused) in the outbox. */
  async parked(id: string, epoch: number, event: OutboxEvent): Promise<void> {
    const rows = await this.db.query(
      `WITH upd AS (UPDATE agents_agents SET owner = NULL, updated_at = now() WHERE id = $1::text AND epoch = $2::int RETURNING id), ${outboxCte('$3')}
       SELECT upd.id, (SELECT count(*) FROM ob) AS events FROM upd`,
      [id, epoch, outboxRows(event, id)],
    );
    if (rows.length > 0) notifyOutboxWritten();
  }

  /** Hands a running agent back to the queue (its worker is shutting down); the sweeper queues a job for it. */
  async requeue(id: string, epoch: number): Promise<boolean> {
    const rows = await this.db.query(`UPDATE agents_agents SET status = 'queued', owner = NULL, updated_at = now() - interval '1 hour' WHERE id = $1::text AND epoch = $2::int AND status = 'running' RETURNING id`, [id, epoch]);
    return rows.length > 0;
  }

  /** Tokens and cost spent by every agent of a project. */
  async projectSpend(project: string): Promise<{ tokens: number; cost: number }> {
    const rows = await this.db.query<{ tokens: unknown; cost: unknown }>(`SELECT coalesce(sum(tokens_in + tokens_out), 0) AS tokens, coalesce(sum(cost), 0) AS cost FROM agents_agents WHERE spec->>'project' = $1::text`, [project]);
    return { tokens: Number(rows[0]?.tokens ?? 0), cost: Number(rows[0]?.cost ?? 0) };
  }

  /** Queued agents of a project (queued again when one of its agents ends and frees a slot). */
  async queuedInProject(project: string): Promise<Agent[]> {
    const rows = await this.db.query(`SELECT * FROM agents_agents WHERE status = 'queued' AND spec->>'project' = $1::text ORDER BY priority, created_at LIMIT 1000`, [project]);
    return rows.map(toAgent);
  }

  /** Queued agents of a swarm, in the order workers take them (queued again when one of its agents ends). */
  async queuedInSwarm(swarmId: string, limit: number): Promise<Agent[]> {
    const rows = await this.db.query(`SELECT * FROM agents_agents WHERE status = 'queued' AND swarm_id = $1::text ORDER BY priority, created_at, id LIMIT $2::int`, [swarmId, limit]);
    return rows.map(toAgent);
  }

  /** Queued agents that name `id` in their dependencies. */
  async dependents(id: string): Promise<Agent[]> {
    const rows = await this.db.query(`SELECT * FROM agents_agents WHERE status = 'queued' AND spec->'dependsOn' ? $1::text`, [id]);
    return rows.map(toAgent);
  }

  /** Fails an agent that never ran (a dependency failed), with `event` (agents.agent.failed); false when it is no longer waiting. */
  async failWaiting(id: string, reason: string, event: OutboxEvent): Promise<boolean> {
    const rows = await this.db.query(
      `WITH upd AS (
         UPDATE agents_agents SET status = 'failed', error = $2::text, updated_at = now(), finished_at = now() WHERE id = $1::text AND status IN ('queued', 'paused') RETURNING id
       ), ${outboxCte('$3')}
       SELECT upd.id, (SELECT count(*) FROM ob) AS events FROM upd`,
      [id, reason, outboxRows(event, id)],
    );
    if (rows.length > 0) notifyOutboxWritten();
    return rows.length > 0;
  }

  /** Asks to pause (with `event`, agents.agent.pause_requested): a queued agent stays parked, a running one stops after its turn. Undefined when it cannot pause. */
  async pause(id: string, event: OutboxEvent): Promise<Agent | undefined> {
    return this.change(`UPDATE agents_agents SET status = 'paused', updated_at = now() WHERE id = $1::text AND status IN ('queued', 'running') RETURNING *`, [id], event);
  }

  /** Runs the single-row change `update` (RETURNING *) with `event` in the kernel outbox in the same statement. */
  private async change(update: string, params: unknown[], event: OutboxEvent): Promise<Agent | undefined> {
    const rows = await this.db.query(`WITH upd AS (${update}), ${outboxCte(`$${params.length + 1}`)} SELECT upd.*, (SELECT count(*) FROM ob) AS events FROM upd`, [...params, outboxRows(event, String(params[0]))]);
    if (!rows[0]) return undefined;
    notifyOutboxWritten();
    return toAgent(rows[0]);
  }

  /** Queues a paused agent again, with `event` (agents.agent.queued). */
  async resume(id: string, event: OutboxEvent): Promise<Agent | undefined> {
    return this.change(`UPDATE agents_agents SET status = 'queued', updated_at = now() WHERE id = $1::text AND status = 'paused' RETURNING *`, [id], event);
  }

  /** Kills an agent that has not ended, with `event` (agents.agent.killed); the worker running it is fenced out by the status. */
  async kill(id: string, reason: string, event: OutboxEvent): Promise<Agent | undefined> {
    return this.change(
      `UPDATE agents_agents SET status = 'killed', error = $2::text, owner = NULL, updated_at = now(), finished_at = now()
       WHERE id = $1::text AND status IN ('queued', 'running', 'paused') RETURNING *`,
      [id, reason],
      event,
    );
  }

  /** Log rows after `after`, oldest first. */
  async logs(id: string, after = 0, limit = 500): Promise<LogRow[]> {
    const rows = await this.db.query('SELECT * FROM agents_logs WHERE agent_id = $1::text AND id > $2::bigint ORDER BY id LIMIT $3::int', [id, after, limit]);
    return rows.map((r) => ({
      id: Number(r.id),
      turn: Number(r.turn),
      kind: r.kind as AgentLogEntry['kind'],
      content: json(r.content),
      tokensIn: r.tokens_in === null ? undefined : Number(r.tokens_in),
      tokensOut: r.tokens_out === null ? undefined : Number(r.tokens_out),
      cost: r.cost === null ? null : Number(r.cost),
      durationMs: r.duration_ms === null ? undefined : Number(r.duration_ms),
      createdAt: iso(r.created_at)!,
    }));
  }

  /** Records a safety refusal, with `event` (agents.safety.blocked) in the kernel outbox in the same statement. */
  async audit(agentId: string, tool: string, rule: string, detail: string, event: OutboxEvent): Promise<void> {
    await this.db.query(
      `WITH upd AS (INSERT INTO agents_audit (agent_id, tool, rule, detail) VALUES ($1::text, $2::text, $3::text, $4::text) RETURNING id), ${outboxCte('$5')}
       SELECT upd.id, (SELECT count(*) FROM ob) AS events FROM upd`,
      [agentId, tool, rule, detail, outboxRows(event, agentId)],
    );
    notifyOutboxWritten();
  }

  /** Refusals, newest first (all agents, or one). */
  async auditLog(agentId?: string, limit = 200): Promise<AuditRow[]> {
    const rows = await this.db.query('SELECT * FROM agents_audit WHERE ($1::text IS NULL OR agent_id = $1::text) ORDER BY id DESC LIMIT $2::int', [agentId ?? null, limit]);
    return rows.map((r) => ({ id: Number(r.id), agentId: String(r.agent_id), tool: String(r.tool), rule: String(r.rule), detail: String(r.detail), createdAt: iso(r.created_at)! }));
  }

  /**
   * Running agents whose heartbeat is older than `leaseMs`: queued again (recoveries + 1) to continue from their last
   * turn on any worker, or failed once `maxRecoveries` is spent. Returns them in their new state. Each moved agent's
   * event (agents.agent.queued with the recovery as reason, or agents.agent.failed) goes into the kernel outbox in the
   * same statement: the rows are only known inside it, so the events are built there (data as in model/events.ts).
   */
  async sweepOrphans(leaseMs: number, maxRecoveries: number): Promise<Agent[]> {
    const rows = await this.db.query(
      `WITH upd AS (
         UPDATE agents_agents SET status = CASE WHEN recoveries >= $2::int THEN 'failed' ELSE 'queued' END,
           error = CASE WHEN recoveries >= $2::int THEN 'its worker stopped answering ' || (recoveries + 1) || ' times' ELSE error END,
           finished_at = CASE WHEN recoveries >= $2::int THEN now() ELSE NULL END,
           recoveries = recoveries + 1, owner = NULL, updated_at = now()
         WHERE status = 'running' AND heartbeat_at < now() - ($1::int * interval '1 millisecond') RETURNING *
       ), ob AS (
         INSERT INTO kernel_outbox (event_id, type, subject, data, correlation_id)
         SELECT gen_random_uuid()::text, 'agents.agent.' || upd.status, NULL,
           jsonb_build_object('agentId', upd.id, 'swarmId', upd.swarm_id, 'reason',
             CASE WHEN upd.status = 'queued' THEN 'recovery ' || upd.recoveries || ': its worker stopped answering' ELSE coalesce(upd.error, 'recoveries spent') END),
           upd.id
         FROM upd ORDER BY upd.id RETURNING ${OUTBOX_NOTIFY_SQL} AS notified
       )
       SELECT upd.*, (SELECT count(*) FROM ob) AS events FROM upd`,
      [leaseMs, maxRecoveries],
    );
    if (rows.length > 0) notifyOutboxWritten();
    return rows.map(toAgent);
  }

  /** Queued agents not picked up for `ms` (their job was lost): the sweeper queues them again. */
  async waitingSince(ms: number): Promise<Agent[]> {
    const rows = await this.db.query(`SELECT * FROM agents_agents WHERE status = 'queued' AND updated_at < now() - ($1::int * interval '1 millisecond') ORDER BY priority, created_at LIMIT 500`, [ms]);
    return rows.map(toAgent);
  }

  /** Statuses of the given agents (dependencies). */
  async statuses(ids: string[]): Promise<Map<string, AgentStatus>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.query<{ id: string; status: AgentStatus }>(`SELECT id, status FROM agents_agents WHERE id IN (SELECT jsonb_array_elements_text(($1::text)::jsonb))`, [J(ids)]);
    return new Map(rows.map((r) => [r.id, r.status]));
  }
}
