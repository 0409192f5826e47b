/** Swarm rows and swarm channels. A swarm ends once: the finishing write requires status 'running'. */
import { enqueueEvent, notifyOutboxWritten, NotFound, txQuery, type Database, type OutboxEvent } from '../../../kernel/index.ts';
import { swarmCapacity, type Swarm, type SwarmSpec, type SwarmStatus } from '../model/swarm.ts';
import { outboxCte, outboxRows } from './outbox-sql.ts';
import { iso, json } from './rows.ts';

const J = (v: unknown) => JSON.stringify(v ?? null);

/** A channel message as read back. */
export interface ChannelMessage {
  id: number;
  agentId: string;
  role: string;
  text: string;
  createdAt: string;
}

const toSwarm = (r: Record<string, unknown>): Swarm => ({
  id: String(r.id),
  name: String(r.name),
  strategy: r.strategy as Swarm['strategy'],
  spec: json<SwarmSpec>(r.spec),
  status: r.status as SwarmStatus,
  result: r.result === null || r.result === undefined ? null : json(r.result),
  error: (r.error as string | null) ?? null,
  createdAt: iso(r.created_at)!,
  updatedAt: iso(r.updated_at)!,
  finishedAt: iso(r.finished_at),
  capacity: capacityOf(r.state),
});

function capacityOf(state: unknown): number | null {
  const c = (json<Record<string, unknown> | null>(state) ?? {}).capacity;
  return typeof c === 'number' ? c : null;
}

/** A capacity decision that changed the capacity. */
export interface Scaling {
  from: number;
  to: number;
  queued: number;
  running: number;
}


/** The swarm store. */
export class SwarmStore {
  constructor(private readonly db: Database) {}

  /** Creates a running swarm; `event` (agents.swarm.started) goes into the kernel outbox in the same statement. */
  async create(id: string, spec: SwarmSpec, event: OutboxEvent): Promise<Swarm> {
    const rows = await this.db.query(
      `WITH upd AS (INSERT INTO agents_swarms (id, name, strategy, spec, status) VALUES ($1::text, $2::text, $3::text, ($4::text)::jsonb, 'running') RETURNING *),
       ${outboxCte('$5')}
       SELECT upd.*, (SELECT count(*) FROM ob) AS events FROM upd`,
      [id, spec.name, spec.strategy, J(spec), outboxRows(event, id)],
    );
    notifyOutboxWritten();
    return toSwarm(rows[0]!);
  }

  /** A swarm, or NotFound. */
  async get(id: string): Promise<Swarm> {
    const rows = await this.db.query('SELECT * FROM agents_swarms WHERE id = $1::text', [id]);
    if (!rows[0]) throw new NotFound(`swarm '${id}'`);
    return toSwarm(rows[0]);
  }

  /** Swarms, newest first. */
  async list(limit = 100): Promise<Swarm[]> {
    return (await this.db.query('SELECT * FROM agents_swarms ORDER BY created_at DESC, id DESC LIMIT $1::int', [limit])).map(toSwarm);
  }

  /** Ids of running swarms (the sweeper advances them). */
  async running(): Promise<string[]> {
    return (await this.db.query<{ id: string }>(`SELECT id FROM agents_swarms WHERE status = 'running' ORDER BY created_at LIMIT 1000`)).map((r) => r.id);
  }

  /**
   * Ends a running swarm; false when it had ended already (another instance got there first). `event` (completed or
   * failed) goes into the kernel outbox in the same statement, only when this call ended it.
   */
  async finish(id: string, status: Exclude<SwarmStatus, 'running'>, result: unknown, error: string | null, event: OutboxEvent): Promise<boolean> {
    const rows = await this.db.query(
      `WITH upd AS (
         UPDATE agents_swarms SET status = $2::text, result = ($3::text)::jsonb, error = $4::text, updated_at = now(), finished_at = now() WHERE id = $1::text AND status = 'running' RETURNING id
       ), ${outboxCte('$5')}
       SELECT upd.id, (SELECT count(*) FROM ob) AS events FROM upd`,
      [id, status, J(result), error, outboxRows(event, id)],
    );
    if (rows.length > 0) notifyOutboxWritten();
    return rows.length > 0;
  }

  /**
   * Decides an autoscaled swarm's capacity from its queued and running agents now (swarmCapacity) and stores it; when
   * it changed, `event` of the change goes into the kernel outbox in the same transaction. The swarm row is locked
   * meanwhile, so instances deciding at once take turns and each change is announced once, from the value before it.
   * Undefined when nothing changed or the swarm has ended. Before the first decision the capacity counts as min.
   */
  async rescale(id: string, scale: { min: number; max: number }, event: (s: Scaling) => OutboxEvent): Promise<Scaling | undefined> {
    const changed = await this.db.transaction(async (tx) => {
      const q = txQuery(tx);
      const [row] = await q<{ state: unknown }>(`SELECT state FROM agents_swarms WHERE id = $1::text AND status = 'running' FOR UPDATE`, [id]);
      if (!row) return undefined;
      const [counts] = await q<{ queued: unknown; running: unknown }>(
        `SELECT count(*) FILTER (WHERE status = 'queued') AS queued, count(*) FILTER (WHERE status = 'running') AS running FROM agents_agents WHERE swarm_id = $1::text`,
        [id],
      );
      const queued = Number(counts?.queued ?? 0);
      const running = Number(counts?.running ?? 0);
      const stored = capacityOf(row.state);
      const to = swarmCapacity(queued, running, scale);
      if (stored === to) return undefined;
      await q(`UPDATE agents_swarms SET state = jsonb_set(state, '{capacity}', to_jsonb($2::int)), updated_at = now() WHERE id = $1::text`, [id, to]);
      const from = stored ?? scale.min;
      if (from === to) return undefined;
      const s = { from, to, queued, running };
      await enqueueEvent(tx, { correlationId: id, ...event(s) });
      return s;
    });
    if (changed) notifyOutboxWritten();
    return changed;
  }

  /** Running autoscaled swarms and their capacity (the gauge agents_swarm_capacity, read at scrape time). */
  async capacities(): Promise<{ id: string; name: string; capacity: number }[]> {
    const rows = await this.db.query<{ id: string; name: string; capacity: unknown }>(`SELECT id, name, state->'capacity' AS capacity FROM agents_swarms WHERE status = 'running' AND state->'capacity' IS NOT NULL LIMIT 1000`);
    return rows.map((r) => ({ id: r.id, name: r.name, capacity: Number(json(r.capacity)) }));
  }

  /** Posts on the swarm's channel; returns the message id. `event` (agents.swarm.message) goes into the outbox with it. */
  async post(swarmId: string, agentId: string, role: string, text: string, event: OutboxEvent): Promise<number> {
    const rows = await this.db.query<{ id: unknown }>(
      `WITH upd AS (INSERT INTO agents_messages (swarm_id, agent_id, role, text) VALUES ($1::text, $2::text, $3::text, $4::text) RETURNING id), ${outboxCte('$5')}
       SELECT upd.id, (SELECT count(*) FROM ob) AS events FROM upd`,
      [swarmId, agentId, role, text, outboxRows(event, swarmId)],
    );
    notifyOutboxWritten();
    return Number(rows[0]!.id);
  }

  /** Channel messages after `after`, oldest first. */
  async messages(swarmId: string, after = 0, limit = 200): Promise<ChannelMessage[]> {
    const rows = await this.db.query('SELECT * FROM agents_messages WHERE swarm_id = $1::text AND id > $2::bigint ORDER BY id LIMIT $3::int', [swarmId, after, limit]);
    return rows.map((r) => ({ id: Number(r.id), agentId: String(r.agent_id), role: String(r.role), text: String(r.text), createdAt: iso(r.created_at)! }));
  }
}
