/** Row -> record mapping for the agents tables (column names as the database returns them). */
import type { Agent, AgentSpec, AgentStatus } from '../model/agent.ts';

import { iso, json } from '../../../kernel/index.ts';

export { iso, json };

type Row = Record<string, unknown>;


const textOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** An agents_agents row as an Agent (without the checkpoint's messages). */
export function toAgent(r: Row): Agent {
  return {
    id: String(r.id),
    status: r.status as AgentStatus,
    repo: String(r.repo),
    baseBranch: String(r.base_branch),
    baseSha: textOrNull(r.base_sha),
    branch: String(r.branch),
    worktree: String(r.worktree),
    spec: json<AgentSpec>(r.spec),
    turn: Number(r.turn),
    result: textOrNull(r.result),
    error: textOrNull(r.error),
    commitSha: textOrNull(r.commit_sha),
    tokensIn: Number(r.tokens_in),
    tokensOut: Number(r.tokens_out),
    cost: Number(r.cost),
    budgetWarned: Boolean(r.budget_warned),
    owner: textOrNull(r.owner),
    epoch: Number(r.epoch),
    recoveries: Number(r.recoveries),
    attempt: Number(r.attempt ?? 0),
    swarmId: textOrNull(r.swarm_id),
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
  };
}
