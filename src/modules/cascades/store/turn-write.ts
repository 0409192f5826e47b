/**
 * A worker's write after a turn or phase: session state, checkpoint, log rows, cost rows and outbox events in ONE
 * statement, fenced by the epoch the worker claimed the session with. The values are serialised when the write is
 * prepared, so the worker may go on changing its state (and start its next LLM call) while the write is in flight.
 */
import { OUTBOX_NOTIFY_SQL, outboxInsertFromJson, toOutboxJsonRows, type OutboxEvent } from '../../../kernel/index.ts';
import type { CheckpointData, CostEntry, LogEntry } from '../model/session.ts';

/** One turn's (or phase boundary's) writes. */
export interface TurnWrite {
  checkpoint: CheckpointData;
  kind: 'turn' | 'phase';
  state: Record<string, unknown>;
  outputs: Record<string, unknown>;
  completed: string[];
  logs: LogEntry[];
  costs: CostEntry[];
  /** Events to publish through the kernel outbox when (and only when) this write commits. */
  events: OutboxEvent[];
  /** Ends the session with this write (completed or error). */
  finish?: { status: 'completed' | 'error'; error?: string };
}

/** A write serialised and ready to send. */
export interface PreparedTurn {
  readonly params: unknown[];
  readonly hasEvents: boolean;
  /** The session as this write leaves it, as the JSON the statement sends (a replay reads it without a database). */
  readonly json: { state: string; outputs: string; completed: string; checkpoint: string; error: string | null };
}

const J = (v: unknown) => JSON.stringify(v ?? null);

/**
 * The statement. Events carry `data.cost` only when they report the session's total (cascades.session.completed):
 * jsonb_set without create_missing fills that key from the updated row and leaves every other event as it is.
 * Relays are woken (pg_notify, delivered at commit) only when the write carried events.
 */
export const TURN_SQL = `
WITH s AS (
  UPDATE cascades_sessions SET current_phase = $3::text, state = ($4::text)::jsonb, outputs = ($5::text)::jsonb, completed = ($6::text)::jsonb,
    cost = cost + $7::float8, tokens_in = tokens_in + $8::int, tokens_out = tokens_out + $9::int, heartbeat_at = now(), updated_at = now(),
    status = coalesce($15::text, status),
    error = CASE WHEN $15::text IS NULL THEN error ELSE $16::text END,
    finished_at = CASE WHEN $15::text IS NULL THEN finished_at ELSE now() END,
    owner = CASE WHEN $15::text IS NULL THEN owner ELSE NULL END
  WHERE id = $1::text AND epoch = $2::int AND status = 'running' RETURNING id, cost),
cp AS (INSERT INTO cascades_checkpoints (session_id, phase, turn, kind, data) SELECT id, $3::text, $10::int, $11::text, ($12::text)::jsonb FROM s),
lg AS (INSERT INTO cascades_logs (session_id, phase, turn, sounding_index, winner, kind, model, tokens_in, tokens_out, cost, duration_ms, content)
  SELECT s.id, x.phase, x.turn, x.sounding_index, x.winner, x.kind, x.model, x.tokens_in, x.tokens_out, x.cost, x.duration_ms, x.content
  FROM s, jsonb_to_recordset(($13::text)::jsonb) AS x(phase text, turn int, sounding_index int, winner text, kind text, model text, tokens_in int, tokens_out int, cost float8, duration_ms int, content jsonb)),
c AS (INSERT INTO cascades_costs (session_id, phase, model, tokens_in, tokens_out, cost)
  SELECT s.id, x.phase, x.model, x.tokens_in, x.tokens_out, x.cost FROM s, jsonb_to_recordset(($14::text)::jsonb) AS x(phase text, model text, tokens_in int, tokens_out int, cost float8)),
ev AS (
  ${outboxInsertFromJson(`jsonb_set(e.ev, '{data,cost}', to_jsonb(s.cost), false)`)}
  FROM s, jsonb_array_elements(($17::text)::jsonb) WITH ORDINALITY AS e(ev, n)
  ORDER BY e.n
  RETURNING 1),
woke AS (SELECT ${OUTBOX_NOTIFY_SQL} FROM (SELECT 1 FROM ev LIMIT 1) AS any_event)
SELECT s.cost::float8 AS cost, (SELECT count(*) FROM woke)::int AS notified FROM s`;

/** Serialises `w` for session `id` at `epoch` now. */
export function prepareTurn(id: string, epoch: number, w: TurnWrite): PreparedTurn {
  let cost = 0;
  let tin = 0;
  let tout = 0;
  for (const c of w.costs) {
    cost += c.cost ?? 0;
    tin += c.tokensIn;
    tout += c.tokensOut;
  }
  const logs = w.logs.map((l) => ({ phase: l.phase, turn: l.turn, kind: l.kind, sounding_index: l.soundingIndex ?? null, winner: l.winner === undefined ? null : String(l.winner), model: l.model ?? null, tokens_in: l.tokensIn ?? null, tokens_out: l.tokensOut ?? null, cost: l.cost ?? null, duration_ms: l.durationMs ?? null, content: l.content ?? null }));
  const costs = w.costs.map((c) => ({ phase: c.phase, model: c.model, tokens_in: c.tokensIn, tokens_out: c.tokensOut, cost: c.cost }));
  const events = toOutboxJsonRows(w.events, id);
  const json = { state: J(w.state), outputs: J(w.outputs), completed: J(w.completed), checkpoint: J(w.checkpoint), error: w.finish?.error ?? null };
  return {
    params: [id, epoch, w.checkpoint.phase, json.state, json.outputs, json.completed, cost, tin, tout, w.checkpoint.turn, w.kind, json.checkpoint, J(logs), J(costs), w.finish?.status ?? null, w.finish?.error ?? null, J(events)],
    hasEvents: events.length > 0,
    json,
  };
}
