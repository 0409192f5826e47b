/** @jsxImportSource hono/jsx */
/** A workflow's diagram: the drawn graph (server-side SVG), a legend, and the Mermaid source behind a toggle. */
import { GraphSvg, layoutGraph } from '../../../kernel/index.ts';
import type { WorkflowGraph } from '../definition/index.ts';
import type { HistoryEntry } from '../store/index.ts';
import { dagInput, stateMachineInput } from './diagram-input.ts';
import { dagStepStates, STEP_STATES, type StepRun } from './step-states.ts';

/** The run a diagram highlights. */
export interface DiagramRun extends StepRun {
  history: HistoryEntry[];
}

/** The legend under a diagram. */
function Legend(props: { kind: 'state-machine' | 'dag'; run: boolean }) {
  if (props.kind === 'dag') {
    if (!props.run) return <div class="wf-legend">steps and their needs; a dashed box runs only when its condition holds</div>;
    return (
      <div class="wf-legend">
        {STEP_STATES.map((s) => (
          <span>
            <span class={`chip step-${s}`}></span>
            {s}
          </span>
        ))}
      </div>
    );
  }
  return (
    <div class="wf-legend">
      {props.run ? (
        <>
          <span>
            <span class="chip current"></span>current status
          </span>
          <span>
            <span class="chip path"></span>path taken
          </span>
        </>
      ) : null}
      <span>
        <span class="chip back"></span>edge back to an earlier status
      </span>
    </div>
  );
}

/**
 * The diagram block. With `run`: a state machine marks the run's path and current status; a DAG colours each step
 * by its state. `id` names the block (the run page's live refresh swaps it by id).
 */
export function WorkflowDiagram(props: { graph: WorkflowGraph; mermaid: string; run?: DiagramRun; id?: string; live?: boolean }) {
  const { graph, run } = props;
  const input =
    graph.kind === 'dag'
      ? dagInput(graph, run && dagStepStates(graph, run))
      : stateMachineInput(graph, run && { statuses: run.history.map((h) => h.status), current: run.status, runState: run.runState });
  const title = graph.kind === 'dag' ? `Steps of workflow ${graph.name}` : `State diagram of workflow ${graph.name}`;
  return (
    <div class="wf-diagram" id={props.id} data-live={props.live ? '' : undefined} data-workflow={graph.name} data-kind={graph.kind}>
      <div class="graph-wrap">
        <GraphSvg layout={layoutGraph(input)} title={title} />
      </div>
      <Legend kind={graph.kind} run={run !== undefined} />
      <details class="wf-source">
        <summary>Mermaid source</summary>
        <pre class="code mermaid-source">{props.mermaid}</pre>
      </details>
    </div>
  );
}
