/** @jsxImportSource hono/jsx */
/**
 * The run page: facts and controls, the status timeline from history, the object as JSON, and the definition's
 * diagram with the run's path (state machine) or step states (DAG). Parts marked `data-live` are swapped in place
 * by run-script.ts when the run changes.
 */
import type { RunRecord } from '../model/run.ts';
import type { HistoryEntry } from '../store/index.ts';
import { definitionHref } from './definitions-page.tsx';
import type { DefinitionView } from './definition-view.ts';
import { WorkflowDiagram } from './diagram.tsx';
import { DIAGRAM_STYLE } from './diagram-style.ts';
import { shortTime } from './run-row.ts';
import { runsHref } from './runs-filter.ts';
import { RUN_SCRIPT } from './run-script.ts';
import { WORKFLOW_STYLE } from './style.ts';
import { WorkflowTabs } from './tabs.tsx';

/** Everything the page shows; `definition` is null for a code-defined workflow (nothing saved to draw). */
export interface RunPageData {
  run: RunRecord;
  history: HistoryEntry[];
  definition: DefinitionView | null;
}

/** Which controls the run's state allows (the engine refuses the rest with 409 anyway). */
function allowed(runState: string) {
  return {
    pause: runState === 'running' || runState === 'initiated',
    resume: runState === 'paused',
    cancel: runState === 'running' || runState === 'initiated' || runState === 'paused',
    // The store deletes data of finished runs only; a dataDeleted run has nothing left to delete.
    delete: runState === 'completed' || runState === 'cancelled',
  };
}

/** Pause, Resume, Cancel, and Delete data for a finished run; run-script.ts wires them to the API. */
function Controls(props: { runState: string }) {
  const can = allowed(props.runState);
  const button = (action: 'pause' | 'resume' | 'cancel' | 'delete', label: string, cls: string) => (
    <button type="button" id={action} class={cls} data-action={action} data-allowed={String(can[action])} disabled={!can[action]}>
      {label}
    </button>
  );
  return (
    <div class="wf-controls" id="controls" data-live>
      {button('pause', 'Pause', '')}
      {button('resume', 'Resume', '')}
      {button('cancel', 'Cancel', 'danger')}
      {/* Shown only where it can work, unlike the others: it is the one control a live run never needs. */}
      {can.delete ? button('delete', 'Delete data', 'danger') : null}
      <span id="control-error" class="error"></span>
    </div>
  );
}

/** The status timeline, oldest first (the current state is the filled dot at the end). */
function Timeline(props: { history: HistoryEntry[] }) {
  if (props.history.length === 0) return <p class="muted" id="timeline" data-live>No history recorded.</p>;
  return (
    <ol class="timeline" id="timeline" data-live>
      {props.history.map((h) => (
        <li class="timeline-entry">
          <div class="what">
            <b class="mono">{h.status}</b>
            <span class={`state state-${h.runState}`}>{h.runState}</span>
            <span class="muted">v{h.version}</span>
          </div>
          <div class="when">{shortTime(h.createdAt.toISOString())} UTC</div>
          {h.reason ? <div class="reason">reason: {h.reason}</div> : null}
          {h.statusDescription ? <div class="muted">{h.statusDescription}</div> : null}
        </li>
      ))}
    </ol>
  );
}

/** The definition's diagram with this run marked; a note instead when there is nothing saved or it cannot be drawn. */
function DefinitionDiagram(props: { data: RunPageData }) {
  const { run, history, definition } = props.data;
  if (definition === null) return <p class="muted">Code-defined workflow: no saved definition to draw.</p>;
  if ('error' in definition.drawn) return <p class="error">Cannot draw definition v{definition.version}: {definition.drawn.error}</p>;
  return (
    <>
      <p class="muted">
        {definition.kind === 'dag' ? 'Steps' : 'States'} of <a href={definitionHref(run.workflow)}>{run.workflow}</a> as defined now (v{definition.version}).
      </p>
      <WorkflowDiagram graph={definition.drawn.graph} mermaid={definition.drawn.mermaid} run={{ status: run.status, runState: run.runState, object: run.object, history, info: { id: run.runId, foreignId: run.foreignId, workflow: run.workflow, status: run.status } }} id="diagram" live />
    </>
  );
}

/** Renders the run page body. */
export function RunPage(props: { data: RunPageData }) {
  const { run, history, definition } = props.data;
  return (
    <main>
      <style dangerouslySetInnerHTML={{ __html: WORKFLOW_STYLE + DIAGRAM_STYLE }} />
      <WorkflowTabs active="runs" />
      <section id="run" data-run-id={run.runId}>
        <div class="wf-head">
          <h2>Run</h2>
          <a href={runsHref({ workflow: run.workflow })}>← runs of {run.workflow}</a>
          <a href="/ui/workflow">all runs</a>
        </div>
        <dl class="wf-facts" id="facts" data-live>
          <dt>run id</dt>
          <dd class="mono">{run.runId}</dd>
          <dt>workflow</dt>
          <dd>{definition ? <a href={definitionHref(run.workflow)}>{run.workflow}</a> : run.workflow}</dd>
          <dt>foreign id</dt>
          <dd class="mono">{run.foreignId}</dd>
          <dt>status</dt>
          <dd class="mono" id="run-status">
            {run.status}
          </dd>
          <dt>run state</dt>
          <dd>
            <span id="run-state" class={`state state-${run.runState}`}>
              {run.runState}
            </span>
          </dd>
          {run.reason ? (
            <>
              <dt>reason</dt>
              <dd id="run-reason">{run.reason}</dd>
            </>
          ) : null}
          <dt>version</dt>
          <dd>{run.version}</dd>
          <dt>created</dt>
          <dd>{shortTime(run.createdAt.toISOString())} UTC</dd>
          <dt>updated</dt>
          <dd>{shortTime(run.updatedAt.toISOString())} UTC</dd>
        </dl>
        <Controls runState={run.runState} />
      </section>
      <section>
        <h2>Status timeline</h2>
        <Timeline history={history} />
      </section>
      <section>
        <h2>Object</h2>
        <pre class="code" id="object" data-live>
          {JSON.stringify(run.object, null, 2) ?? 'null'}
        </pre>
      </section>
      <section class="wide">
        <h2>Diagram</h2>
        <DefinitionDiagram data={props.data} />
      </section>
      <script dangerouslySetInnerHTML={{ __html: RUN_SCRIPT }} />
    </main>
  );
}
