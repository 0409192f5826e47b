/**
 * A for_each_row phase: one child session of a saved cascade per row of a result table, at most `max_parallel`
 * running at once. The parent starts children up to the limit and parks (blocked, no job held); each child's end
 * wakes it to start the next ones, until every row's child has ended. Children's ids are the parent's id, the phase
 * visit and the row index, so a parent resumed after a crash finds the children it started and never starts one twice.
 * The outcome of every row (status, output, error) becomes table `_<phase>` and the phase output.
 */
import { CapstanError } from '../../../kernel/index.ts';
import type { CascadeDefinition, PhaseDefinition } from '../model/definition.ts';
import { prepareData, SQL_OUTPUT_ROWS } from './data-phases.ts';
import { PhaseFailure, type PhaseResult, type SessionRun } from './session-run.ts';
import { childOutcome } from './sub-cascades.ts';

/** Rows one for_each_row phase may fan out over. */
export const MAX_FAN_OUT = 10_000;

/** Runs (or resumes) a for_each_row phase; 'blocked' while its children run. */
export async function runForEachRow(run: SessionRun, phase: PhaseDefinition): Promise<PhaseResult | 'blocked'> {
  const f = phase.for_each_row!;
  await prepareData(run);
  const prefix = `${run.id}.${phase.name}.${run.completedCount}.`;
  const defs = new Map<string, CascadeDefinition>();
  for (;;) {
    // Children are started in row order, so rows [started, started + free) are the next ones.
    const { started, ended } = await run.children.children.progress(run.id, prefix);
    const free = Math.max(0, f.max_parallel - (started - ended));
    const table = await run.data.readTable(run.id, f.table, free, started);
    if (!table) throw new PhaseFailure(`phase ${phase.name}: table ${f.table} does not exist (has phase ${f.table.slice(1)} run?)`);
    if (table.count > MAX_FAN_OUT) throw new PhaseFailure(`phase ${phase.name}: table ${f.table} has ${table.count} rows, more than ${MAX_FAN_OUT}`);
    if (ended >= table.count && started >= table.count) break;
    const start = [];
    for (const [k, row] of table.rows.entries()) {
      const i = started + k;
      try {
        start.push(await run.children.prepare(`${prefix}${i}`, f.cascade, f.inputs, { row, input: run.inputs, state: run.state, outputs: run.outputs }, defs));
      } catch (err) {
        if (err instanceof CapstanError) throw new PhaseFailure(`phase ${phase.name}: row ${i}: ${err.message}`);
        throw err;
      }
    }
    await run.children.start(run.id, start);
    const running = started - ended + start.length;
    if (start.length > 0) run.log({ phase: phase.name, turn: null, kind: 'children', content: { started: start.map((k) => k.id), running, of: table.count } });
    if ((await run.waitForChildren(running, { phase: phase.name, turn: 0, messages: [] })) === 'blocked') return 'blocked';
  }
  const kids = await run.children.children.list(run.id, prefix);
  const results = kids
    .map((k) => ({ row_index: Number(k.id.slice(prefix.length)), ...childOutcome(k) }))
    .sort((a, b) => a.row_index - b.row_index)
    .map((r) => ({ row_index: r.row_index, session_id: r.sessionId, status: r.status, output: r.output, error: r.error }));
  await run.data.writeRows(run.id, `_${phase.name}`, results);
  run.log({ phase: phase.name, turn: null, kind: 'children', content: { ended: results.length, completed: results.filter((r) => r.status === 'completed').length } });
  return { output: results.slice(0, SQL_OUTPUT_ROWS) };
}
