/** Row -> record mapping for the cascades tables (column names as the database returns them). */
import type { CascadeDefinition } from '../model/definition.ts';
import type { HumanCheckpoint, Session, SessionStatus } from '../model/session.ts';

import { iso, json } from '../../../kernel/index.ts';

export { iso, json };

type Row = Record<string, unknown>;


/** A cascades_sessions row as a Session. */
export function toSession(r: Row): Session {
  return {
    id: String(r.id),
    cascadeId: String(r.cascade_id),
    spec: json<CascadeDefinition>(r.spec),
    status: r.status as SessionStatus,
    currentPhase: (r.current_phase as string | null) ?? null,
    inputs: json(r.inputs),
    state: json(r.state),
    outputs: json(r.outputs),
    completed: json(r.completed),
    error: (r.error as string | null) ?? null,
    cost: Number(r.cost),
    tokensIn: Number(r.tokens_in),
    tokensOut: Number(r.tokens_out),
    owner: (r.owner as string | null) ?? null,
    epoch: Number(r.epoch),
    recoveries: Number(r.recoveries),
    heartbeatAt: iso(r.heartbeat_at),
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    finishedAt: iso(r.finished_at),
    parentSessionId: (r.parent_session_id as string | null | undefined) ?? null,
    detached: r.detached === true,
    depth: Number(r.depth ?? 0),
  };
}

/** A cascades_human_checkpoints row. */
export function toHumanCheckpoint(r: Row): HumanCheckpoint {
  return {
    id: String(r.id),
    sessionId: String(r.session_id),
    phase: String(r.phase),
    prompt: String(r.prompt),
    status: r.status as HumanCheckpoint['status'],
    // Stored wrapped ({ value }) so a bare string answer stays distinguishable from JSON text across drivers.
    response: r.response === null || r.response === undefined ? null : json<{ value: unknown }>(r.response).value,
    onTimeout: r.on_timeout as HumanCheckpoint['onTimeout'],
    expiresAt: iso(r.expires_at),
    createdAt: iso(r.created_at)!,
    answeredAt: iso(r.answered_at),
  };
}
