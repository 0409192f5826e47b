/** @jsxImportSource hono/jsx */
/** The definitions page: each saved definition with its kind, version, run counts by run state and diagram. */
import { RUN_STATES, type RunState } from '../model/run-state.ts';
import { shortTime } from './run-row.ts';
import { runsHref } from './runs-filter.ts';
import { WorkflowDiagram } from './diagram.tsx';
import { DIAGRAM_STYLE } from './diagram-style.ts';
import type { DefinitionView } from './definition-view.ts';
import { WORKFLOW_STYLE } from './style.ts';
import { WorkflowTabs } from './tabs.tsx';

/** One definition and its run counts (zeros when it has no runs). */
export interface DefinitionEntry {
  view: DefinitionView;
  counts: Record<RunState, number>;
}

/** The anchor id of a definition's section (names are `[a-z][a-z0-9_-]*`, so usable as they are). */
export function definitionAnchor(name: string): string {
  return `def-${name}`;
}

/** A link to a definition on the definitions page. */
export function definitionHref(name: string): string {
  return `/ui/workflow/definitions/${encodeURIComponent(name)}`;
}

/** Run counts of one workflow, each a link to its runs in that state. */
function Counts(props: { name: string; counts: Record<RunState, number> }) {
  const total = Object.values(props.counts).reduce((a, b) => a + b, 0);
  return (
    <div class="wf-bar def-counts">
      <a href={runsHref({ workflow: props.name })} class="muted">
        <b class="def-total">{total}</b> {total === 1 ? 'run' : 'runs'}
      </a>
      {RUN_STATES.filter((s) => props.counts[s] > 0).map((s) => (
        <a class="wf-count" data-state={s} href={runsHref({ workflow: props.name, runState: s })}>
          <span>{s}</span>
          <b>{props.counts[s]}</b>
        </a>
      ))}
    </div>
  );
}

/** One definition's section. */
function Definition(props: { entry: DefinitionEntry }) {
  const { view, counts } = props.entry;
  return (
    <section class="wide definition" id={definitionAnchor(view.name)} data-workflow={view.name}>
      <div class="wf-head">
        <h2>
          <a href={definitionHref(view.name)}>{view.name}</a>
        </h2>
        <span class="muted">{view.kind}</span>
        <span class="def-version">v{view.version}</span>
        <span class="muted">updated {shortTime(view.updatedAt.toISOString())} UTC</span>
      </div>
      <Counts name={view.name} counts={counts} />
      {'error' in view.drawn ? <p class="error">Cannot draw this definition: {view.drawn.error}</p> : <WorkflowDiagram graph={view.drawn.graph} mermaid={view.drawn.mermaid} />}
    </section>
  );
}

/** Renders the definitions page body (all definitions, or the one asked for). */
export function DefinitionsPage(props: { entries: DefinitionEntry[]; single?: boolean }) {
  return (
    <main>
      <style dangerouslySetInnerHTML={{ __html: WORKFLOW_STYLE + DIAGRAM_STYLE }} />
      <WorkflowTabs active="definitions" />
      {props.single ? (
        <p class="wf-wide">
          <a href="/ui/workflow/definitions">← all definitions</a>
        </p>
      ) : null}
      {props.entries.length === 0 ? (
        <section class="wide">
          <h2>Definitions</h2>
          <p class="muted">
            No saved definitions. Apply one with <code>capstan workflow apply -f FILE</code> or <code>POST /api/v1/workflow/definitions</code>; code-defined workflows have none to show.
          </p>
        </section>
      ) : (
        props.entries.map((e) => <Definition entry={e} />)
      )}
    </main>
  );
}
