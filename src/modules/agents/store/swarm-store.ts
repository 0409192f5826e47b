/** Swarm rows and swarm channels. A swarm ends once: the finishing write requires status 'running'. */
import { NotFound, type Database } from '../../../kernel/index.ts';
import type { Swarm, SwarmSpec, SwarmStatus } from '../model/swarm.ts';
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
});

/** The swarm store. */
export class SwarmStore {
  constructor(private readonly db: Database) {}

  /** Creates a running swarm. */
  async create(id: string, spec: SwarmSpec): Promise<Swarm> {
    const rows = await this.db.query(`INSERT INTO agents_swarms (id, name, strategy, spec, status) VALUES ($1::text, $2::text, $3::text, ($4::text)::jsonb, 'running') RETURNING *`, [id, spec.name, spec.strategy, J(spec)]);
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

  /** Ends a running swarm; false when it had ended already (another instance got there first). */
  async finish(id: string, status: Exclude<SwarmStatus, 'running'>, result: unknown, error: string | null): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE agents_swarms SET status = $2::text, result = ($3::text)::jsonb, error = $4::text, updated_at = now(), finished_at = now() WHERE id = $1::text AND status = 'running' RETURNING id`,
      [id, status, J(result), error],
    );
    return rows.length > 0;
  }

  /** Posts on the swarm's channel; returns the message id. */
  async post(swarmId: string, agentId: string, role: string, text: string): Promise<number> {
    const rows = await this.db.query<{ id: unknown }>('INSERT INTO agents_messages (swarm_id, agent_id, role, text) VALUES ($1::text, $2::text, $3::text, $4::text) RETURNING id', [swarmId, agentId, role, text]);
    return Number(rows[0]!.id);
  }

  /** Channel messages after `after`, oldest first. */
  async messages(swarmId: string, after = 0, limit = 200): Promise<ChannelMessage[]> {
    const rows = await this.db.query('SELECT * FROM agents_messages WHERE swarm_id = $1::text AND id > $2::bigint ORDER BY id LIMIT $3::int', [swarmId, after, limit]);
    return rows.map((r) => ({ id: Number(r.id), agentId: String(r.agent_id), role: String(r.role), text: String(r.text), createdAt: iso(r.created_at)! }));
  }
}
