/** Every phase kind's runner, as a session run is given them (kept apart so each kind stays in its own file). */
import { runForEachRow } from './for-each-row.ts';
import { runLlmPhase } from './llm-phase.ts';
import { runSqlPhase } from './data-phases.ts';
import type { RunDeps } from './session-run.ts';
import { runSoundings } from './soundings.ts';
import { startAsyncCascades } from './sub-cascades.ts';

/** The runners a worker hands each SessionRun. */
export const PHASE_RUNNERS: RunDeps['phases'] = { llm: runLlmPhase, soundings: runSoundings, sql: runSqlPhase, forEachRow: runForEachRow, asyncCascades: startAsyncCascades };
