/** Run states and the moves allowed between them, as in luno/workflow; the store enforces them in SQL. */
import { Conflict } from '../../../kernel/index.ts';

/** Every run state, in luno/workflow's order. */
export const RUN_STATES = ['initiated', 'running', 'paused', 'cancelled', 'completed', 'dataDeleted', 'requestedDataDeleted'] as const;

/** Where a run is in its life, independent of its workflow status. */
export type RunState = (typeof RUN_STATES)[number];

/** The reason of a run that step errors paused starts with this; only such runs are resumed automatically. */
export const ERROR_PAUSE_PREFIX = 'errors:';

/** Runs in these states hold the (workflow, foreignId) slot: a second trigger gets a Conflict. */
export const ACTIVE_RUN_STATES: readonly RunState[] = ['initiated', 'running', 'paused'];

/** luno/workflow's table: from each state, the states a run may move to. Data deletion is requested, then done. */
export const RUN_STATE_TRANSITIONS: Readonly<Record<RunState, readonly RunState[]>> = {
  initiated: ['running', 'paused'],
  running: ['completed', 'paused', 'cancelled'],
  paused: ['running', 'cancelled'],
  completed: ['requestedDataDeleted'],
  cancelled: ['requestedDataDeleted'],
  requestedDataDeleted: ['dataDeleted'],
  dataDeleted: ['requestedDataDeleted'],
};

/** True when a run in state `s` holds its (workflow, foreignId) slot. */
export function isActiveRunState(s: RunState): boolean {
  return ACTIVE_RUN_STATES.includes(s);
}

/** True when `from` may move to `to`; staying in the same state is not a move and is always allowed. */
export function canTransitionRunState(from: RunState, to: RunState): boolean {
  return from === to || RUN_STATE_TRANSITIONS[from].includes(to);
}

/** The states from which a run may reach `to` (itself included), for the store's SQL guard. */
export function runStatesLeadingTo(to: RunState): RunState[] {
  return RUN_STATES.filter((from) => canTransitionRunState(from, to));
}

/** Throws Conflict naming both states unless `from` may move to `to`. */
export function assertRunStateTransition(from: RunState, to: RunState): void {
  if (!canTransitionRunState(from, to)) throw new Conflict(`run state cannot move from '${from}' to '${to}'`, { from, to });
}
