/**
 * Data phases over the session's own schema: `sql` phases (result table `_<phase>`), the `sql` tool of LLM phases,
 * and the tables earlier phases' outputs become so that SQL can read them (`select * from _draft`).
 */
import { CapstanError, isTransient } from '../../../kernel/index.ts';
import type { PhaseDefinition } from '../model/definition.ts';
import { rowsOf } from '../store/index.ts';
import { PhaseFailure, phaseKind, type PhaseResult, type SessionRun } from './session-run.ts';

/** Rows of a sql phase kept as its output (the table keeps them all). */
export const SQL_OUTPUT_ROWS = 1_000;
/** Rows the sql tool returns to the model at most. */
export const SQL_TOOL_ROWS = 100;
/** Characters the sql tool's result may have at most. */
export const SQL_TOOL_CHARS = 8_000;

/**
 * Creates the session's schema if needed and (re)writes `_<phase>` for every completed phase that has no table of its
 * own (LLM, soundings and human phases): SQL reads them like the results of sql phases. Rewriting is idempotent.
 */
export async function prepareData(run: SessionRun): Promise<void> {
  await run.data.ensure(run.id);
  const tables = run.spec.phases
    .filter((p) => run.completedPhases.includes(p.name) && !['sql', 'for_each_row'].includes(phaseKind(p)) && Object.hasOwn(run.outputs, p.name))
    .map((p) => ({ table: `_${p.name}`, rows: rowsOf(run.outputs[p.name]) }));
  await run.data.writeTables(run.id, tables);
}

/** A database error of the session's own SQL (a typo, a missing table, a permission it lacks) fails the phase with its message. */
function sqlFailure(phase: PhaseDefinition, err: unknown): Error {
  if (err instanceof CapstanError) return new PhaseFailure(`phase ${phase.name}: ${err.message}`);
  const code = (err as { code?: unknown })?.code;
  // A statement timeout (57014) is the query's own fault, not a passing outage.
  if (typeof code === 'string' && (code === '57014' || !isTransient(err))) return new PhaseFailure(`phase ${phase.name}: sql failed: ${(err as Error).message}`);
  return err as Error;
}

/** A sql phase: its query's result replaces table `_<phase>`; the output is its first rows. */
export async function runSqlPhase(run: SessionRun, phase: PhaseDefinition): Promise<PhaseResult> {
  const table = `_${phase.name}`;
  try {
    await prepareData(run);
    const res = await run.data.createTableAs(run.id, table, phase.sql!, SQL_OUTPUT_ROWS);
    run.log({ phase: phase.name, turn: null, kind: 'sql', content: { table, rows: res.count, truncated: res.count > res.rows.length } });
    return { output: res.rows };
  } catch (err) {
    throw sqlFailure(phase, err);
  }
}

/**
 * The sql tool: the model's query over the session's schema, read-only, as JSON rows within the caps; an abort of
 * `signal` cancels the query on the server.
 */
export async function sqlTool(run: SessionRun, query: string, signal?: AbortSignal): Promise<string> {
  await prepareData(run);
  const { rows, truncated } = await run.data.query(run.id, query, SQL_TOOL_ROWS, signal);
  // Whole rows are dropped from the end until the JSON fits, so the model always gets valid JSON.
  let kept = rows;
  let cut = truncated;
  let text = JSON.stringify({ rows: kept, truncated: cut });
  while (text.length > SQL_TOOL_CHARS && kept.length > 0) {
    kept = kept.slice(0, Math.max(0, Math.floor(kept.length * 0.8)));
    cut = true;
    text = JSON.stringify({ rows: kept, truncated: cut });
  }
  return text;
}
