/** Compiles a parsed declarative definition (state machine or DAG) onto the same runtime spec that code-defined workflows use. */
import { CallFailed, Conflict, Invalid, nextRetryDelayMs, type ActionRegistry, type Logger, type RefScope } from '../../../kernel/index.ts';
import type { StatusProcess, WorkflowSpec } from '../model/builder.ts';
import { callAction, callHttp, runCommand } from './calls.ts';
import { connectorsFromGraph, schedulesFromGraph } from './triggers.ts';
import { dagScope, expressions, initialDagObject, planDagStage, type DagRunObject, type DagStepPlan, type GraphState, type ParsedDefinition, type WorkflowGraph } from '../definition/index.ts';
import type { Run } from '../model/run.ts';

/** What declarative steps may use. */
export interface DeclarativeDeps {
  actions: ActionRegistry;
  commandsEnabled: boolean;
  defaultPauseAfterErrCount: number;
  /** Where connectors report events they skip. */
  log?: Logger;
}

type Obj = Record<string, unknown>;

function scopeOf(run: Run): RefScope {
  return { object: run.object, run: { id: run.runId, foreignId: run.foreignId, workflow: run.workflow, status: run.status } };
}

/** The body an http step sends: the run, so the remote side can decide. */
function runBody(run: Run) {
  return { runId: run.runId, workflow: run.workflow, foreignId: run.foreignId, status: run.status, object: run.object, version: run.version };
}

/** Keeps a step's output in the run's object under `outputs.<status>` so later templates can read it. */
function withOutput(object: unknown, status: string, output: unknown): Obj {
  const o: Obj = typeof object === 'object' && object !== null && !Array.isArray(object) ? { ...(object as Obj) } : { value: object };
  o.outputs = { ...((o.outputs as Obj | undefined) ?? {}), [status]: output ?? null };
  return o;
}

function stateProcess(graph: WorkflowGraph, s: GraphState, deps: DeclarativeDeps): StatusProcess | undefined {
  const base = { parallel: s.parallel, pauseAfterErrCount: s.pauseAfterErrCount ?? s.retry?.attempts ?? deps.defaultPauseAfterErrCount, ...(s.retry ? { retry: s.retry } : {}) };
  const timeout = s.timeout ? { afterMs: s.timeout.afterMs, to: [s.timeout.to], fn: () => s.timeout!.to } : undefined;
  const w = s.work;
  if (w?.kind === 'http') {
    return {
      ...base,
      kind: 'step',
      to: w.to,
      timeout,
      step: async (run) => {
        const answer = (await callHttp(w.http, scopeOf(run), runBody(run))) as { status?: unknown; object?: unknown } | undefined;
        if (!answer || typeof answer.status !== 'string') throw new CallFailed(`${w.http.url} must answer {status, object?}`);
        if (answer.object !== undefined) run.object = answer.object;
        return answer.status;
      },
    };
  }
  if (w?.kind === 'action') {
    const to = [w.ok, ...(w.error ? [w.error] : [])];
    return {
      ...base,
      kind: 'step',
      to,
      timeout,
      step: async (run) => {
        try {
          run.object = withOutput(run.object, run.status, await callAction(deps.actions, w.action, scopeOf(run)));
          return w.ok;
        } catch (err) {
          // Transient failures are retried; a definite failure takes the error edge when there is one.
          if (!w.error || err instanceof CallFailed || (err as { status?: number }).status === 503) throw err;
          run.object = withOutput(run.object, run.status, { error: (err as Error).message });
          return w.error;
        }
      },
    };
  }
  if (w?.kind === 'command') {
    return {
      ...base,
      kind: 'step',
      to: w.to,
      timeout,
      step: async (run) => {
        if (!deps.commandsEnabled) throw new Conflict('command steps are disabled (modules.workflow.commandSteps: false)');
        const out = (await runCommand(w.argv, scopeOf(run), w.timeoutMs)).trim();
        if (w.to.length === 1) return w.to[0]!;
        // With several destinations the command prints the next status on its last line.
        const next = out.split('\n').at(-1) ?? '';
        if (!w.to.includes(next)) throw new CallFailed(`command must print one of ${w.to.join(', ')} on its last line, printed '${next}'`);
        return next;
      },
    };
  }
  if (w?.kind === 'dag-stage') {
    return { ...base, kind: 'step', to: [w.ok, w.error], timeout, step: (run) => runStage(graph, run, deps) };
  }
  if (s.callback) {
    return {
      ...base,
      kind: 'callback',
      to: s.callback.to,
      timeout,
      callback: async (run, body) => {
        if (typeof body.status !== 'string') throw new Invalid('callback needs a status', [{ path: 'body.status', message: `one of ${s.callback!.to.join(', ')}` }]);
        if (body.object !== undefined) run.object = body.object;
        return body.status;
      },
    };
  }
  if (timeout) return { ...base, kind: 'callback', to: [], timeout };
  return undefined;
}

/** Runs one DAG step with its retry policy and per-attempt timeout. */
async function runDagStep(step: DagStepPlan, scope: RefScope, deps: DeclarativeDeps): Promise<{ status: 'completed' | 'failed'; output?: unknown; error?: string; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const input = step.input === undefined ? undefined : expressions.interpolate(step.input, scope);
      const call = step.call.kind === 'action' ? deps.actions.call(step.call.name, input ?? {}) : callHttp(step.timeoutMs ? { ...step.call.http, timeoutMs: step.timeoutMs } : step.call.http, scope, input);
      const output = step.timeoutMs && step.call.kind === 'action' ? await Promise.race([call, new Promise((_, rej) => setTimeout(() => rej(new Error(`step timed out after ${step.timeoutMs} ms`)), step.timeoutMs))]) : await call;
      return { status: 'completed', output, attempts: attempt };
    } catch (err) {
      const delay = step.retry ? nextRetryDelayMs(step.retry, attempt) : null;
      if (delay === null) return { status: 'failed', error: (err as Error).message, attempts: attempt };
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

/** A DAG stage: run every ready step in parallel, record results in the object, move on when the stage is settled. */
async function runStage(graph: WorkflowGraph, run: Run, deps: DeclarativeDeps): Promise<string> {
  const object = run.object as DagRunObject;
  const info = { id: run.runId, foreignId: run.foreignId, workflow: run.workflow, status: run.status };
  for (;;) {
    const plan = planDagStage(graph, run.status, object, info);
    for (const id of plan.skip) object.steps[id] = { status: 'skipped' };
    if (plan.next) return plan.next;
    const scope = dagScope(object, info);
    const results = await Promise.all(plan.run.map(async (id) => [id, await runDagStep(graph.dag!.steps[id]!, scope, deps)] as const));
    for (const [id, r] of results) object.steps[id] = r;
  }
}

/** Builds the runtime spec of a declarative definition. */
export function specFromDefinition(parsed: ParsedDefinition, deps: DeclarativeDeps): WorkflowSpec {
  const graph = parsed.graph;
  const processes = new Map<string, StatusProcess>();
  const statuses = new Set<string>();
  for (const name of Object.keys(graph.states)) {
    statuses.add(name);
    const p = stateProcess(graph, graph.states[name]!, deps);
    if (p) processes.set(name, p);
  }
  const onComplete = graph.onComplete;
  return {
    name: graph.name,
    start: graph.start,
    processes,
    connectors: connectorsFromGraph(graph, deps.log),
    schedules: schedulesFromGraph(graph),
    terminal: new Set(graph.terminals),
    statuses,
    onComplete: onComplete
      ? async (run) => {
          if (onComplete.kind === 'action') await callAction(deps.actions, onComplete.action, scopeOf(run));
          else await callHttp(onComplete.http, scopeOf(run), runBody(run));
        }
      : undefined,
    prepareObject: graph.kind === 'dag' ? (input) => initialDagObject(graph, input) : undefined,
  };
}
