/** @jsxImportSource hono/jsx */
/** The runs page body: counts by run state, the filter form, one page of runs (newest first) and the pager. */
import { RUN_STATES, type RunState } from '../model/run-state.ts';
import { shortTime, type RunRow } from './run-row.ts';
import { runsHref, type RunsFilter } from './runs-filter.ts';
import { definitionHref } from './definitions-page.tsx';
import { RUNS_SCRIPT } from './runs-script.ts';
import { WORKFLOW_STYLE } from './style.ts';
import { WorkflowTabs } from './tabs.tsx';

/** Everything the page shows. */
export interface RunsPageData {
  filter: RunsFilter;
  rows: RunRow[];
  nextHref: string | null;
  counts: Record<RunState, number>;
  /** Saved definition names, offered by the workflow field. */
  workflows: string[];
  error?: string;
}

/** The counts bar: one chip per run state, each a link that filters by it. */
function Counts(props: { filter: RunsFilter; counts: Record<RunState, number> }) {
  const total = Object.values(props.counts).reduce((a, b) => a + b, 0);
  return (
    <div class="wf-bar" id="counts">
      <span class="muted">
        {props.filter.workflow ? `workflow ${props.filter.workflow}:` : 'all workflows:'} <b id="count-total">{total}</b> runs
      </span>
      {RUN_STATES.map((s) => (
        <a id={`count-${s}`} class={`wf-count${props.counts[s] === 0 ? ' zero' : ''}${props.filter.runState === s ? ' active' : ''}`} href={runsHref({ workflow: props.filter.workflow, runState: s })}>
          <span>{s}</span>
          <b>{props.counts[s]}</b>
        </a>
      ))}
    </div>
  );
}

/** The GET form; blank fields mean "any". */
function Filters(props: { filter: RunsFilter; workflows: string[] }) {
  const f = props.filter;
  return (
    <form id="filters" class="wf-filters" method="get" action="/ui/workflow">
      <label>
        workflow
        <input name="workflow" value={f.workflow ?? ''} list="workflow-names" size={16} />
      </label>
      <datalist id="workflow-names">
        {props.workflows.map((w) => (
          <option value={w} />
        ))}
      </datalist>
      <label>
        status
        <input name="status" value={f.status ?? ''} size={14} />
      </label>
      <label>
        run state
        <select name="runState">
          <option value="">any</option>
          {RUN_STATES.map((s) => (
            <option value={s} selected={f.runState === s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        foreign id
        <input name="foreignId" value={f.foreignId ?? ''} size={18} />
      </label>
      <button type="submit">Filter</button>
      <a href="/ui/workflow">clear</a>
    </form>
  );
}

/** One table row; runs-script.ts builds the same cells on refresh. */
function Row(props: { r: RunRow }) {
  const r = props.r;
  return (
    <tr class="run-row" data-run-id={r.runId} data-key={`${r.status}|${r.runState}`}>
      <td class="mono">
        <a href={`/ui/workflow/runs/${encodeURIComponent(r.runId)}`}>{r.runId}</a>
      </td>
      <td>{r.workflow}</td>
      <td class="mono">{r.foreignId}</td>
      <td class="mono run-status">{r.status}</td>
      <td>
        <span class={`state state-${r.runState}`}>{r.runState}</span>
      </td>
      <td class="mono muted">{shortTime(r.createdAt)}</td>
      <td class="mono muted">{shortTime(r.updatedAt)}</td>
    </tr>
  );
}

/** Renders the runs page body. */
export function RunsPage(props: { data: RunsPageData }) {
  const d = props.data;
  return (
    <main>
      <style dangerouslySetInnerHTML={{ __html: WORKFLOW_STYLE }} />
      <WorkflowTabs active="runs" />
      <section class="wide">
        <div class="wf-head">
          <h2>Workflow runs</h2>
          {d.filter.workflow && d.workflows.includes(d.filter.workflow) ? (
            <a id="definition-link" href={definitionHref(d.filter.workflow)}>
              definition of {d.filter.workflow}
            </a>
          ) : null}
          <span id="live-status" class="muted"></span>
        </div>
        <Counts filter={d.filter} counts={d.counts} />
        <Filters filter={d.filter} workflows={d.workflows} />
        {d.error ? (
          <p class="error" id="filter-error">
            {d.error}
          </p>
        ) : null}
      </section>
      <section class="wide">
        <table id="runs">
          <thead>
            <tr>
              <th>run</th>
              <th>workflow</th>
              <th>foreign id</th>
              <th>status</th>
              <th>run state</th>
              <th>created (UTC)</th>
              <th>updated (UTC)</th>
            </tr>
          </thead>
          <tbody id="run-rows">
            {d.rows.length === 0 ? (
              <tr>
                <td colspan={7} class="muted">
                  No runs match.
                </td>
              </tr>
            ) : (
              d.rows.map((r) => <Row r={r} />)
            )}
          </tbody>
        </table>
        <div class="wf-pager">
          {d.filter.cursor ? <a href={runsHref({ ...d.filter, cursor: undefined })}>← newest</a> : null}
          <a id="next-page" href={d.nextHref ?? '#'} hidden={d.nextHref === null}>
            next page →
          </a>
        </div>
      </section>
      <script dangerouslySetInnerHTML={{ __html: RUNS_SCRIPT }} />
    </main>
  );
}
