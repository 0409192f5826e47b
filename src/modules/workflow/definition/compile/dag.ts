/**
 * Checks a parsed DAG definition and compiles it onto the same WorkflowGraph a state machine uses.
 *
 * How a DAG maps to statuses: steps are grouped into stages by depth (a step's stage is one more than the latest
 * stage among its needs), and each stage is one status, `stage-1` .. `stage-N`, followed by the terminal statuses
 * `completed` and `failed`. `stage-k` has work `{ kind: 'dag-stage', steps }` with edges ok -> `stage-(k+1)` (or
 * `completed`) and error -> `failed`. Every need of a step settles in an earlier stage, so fan-in needs no join
 * status, and all steps of a stage run concurrently (fan-out). The run's object carries the input and each
 * step's result (`{ input, steps: { <id>: { status, output?, error?, attempts } } }`, see dag-progress.ts), so a
 * crash mid-stage re-runs only the steps without a recorded result. Trade-off: a step waits for its whole
 * previous stage, not only for its own needs; in exchange each status is an ordinary durable status with
 * one consumer, version-checked transitions and a history row, exactly like a state machine's.
 */
import { collectDuration, DEFAULT_BACKOFF_MS, ExpressionError, Invalid, type Condition, type FieldIssue } from '../../../../kernel/index.ts';
import { compileOnComplete } from './on-complete.ts';
import { compileTriggers } from './triggers.ts';
import { ancestorsOf, findCycles, topoStages } from '../dag-order.ts';
import type { DagDefinition, DagStepDefinition } from '../dag-schema.ts';
import type { DagStepPlan, GraphEdge, GraphState, HttpCall, WorkflowGraph } from '../graph.ts';
import { expressions } from '../expressions.ts';
import { declaredInputFields } from '../input-schema.ts';
import { refProblem, type RefContext } from '../ref-rules.ts';
import { headerIssues, templateIssues, urlIssues } from '../template-checks.ts';

/** Status of stage `k` (1-based). */
export function stageStatus(k: number): string {
  return `stage-${k}`;
}
/** Terminal status of a DAG whose steps all completed or were skipped. */
export const DAG_COMPLETED = 'completed';
/** Terminal status of a DAG with a step that failed after its retries. */
export const DAG_FAILED = 'failed';

/** Step fields other than the call itself, checked alike for both call kinds. */
function stepExtras(step: DagStepDefinition, at: string, ctx: RefContext, issues: FieldIssue[]): { when?: Condition; timeoutMs?: number; backoffMs?: number } {
  let when: Condition | undefined;
  if (step.when !== undefined) {
    try {
      when = expressions.parseCondition(step.when);
      for (const ref of when.refs) {
        const problem = refProblem(ref, ctx);
        if (problem) issues.push({ path: `${at}.when`, message: problem });
      }
    } catch (err) {
      if (!(err instanceof ExpressionError)) throw err;
      issues.push({ path: `${at}.when`, message: err.message });
    }
  }
  const timeoutMs = step.timeout === undefined ? undefined : collectDuration(step.timeout, `${at}.timeout`, issues);
  if (timeoutMs === 0) issues.push({ path: `${at}.timeout`, message: 'a timeout must be longer than 0' });
  const backoffMs = step.retry?.backoff === undefined ? DEFAULT_BACKOFF_MS : collectDuration(step.retry.backoff, `${at}.retry.backoff`, issues);
  return { when, timeoutMs, backoffMs };
}

/** Compiles a DAG; throws Invalid listing every issue (paths like `steps.3.needs.0`). */
export function compileDag(def: DagDefinition): WorkflowGraph {
  const issues: FieldIssue[] = [];
  const firstIndex = new Map<string, number>();
  def.steps.forEach((s, i) => {
    const first = firstIndex.get(s.id);
    if (first !== undefined) issues.push({ path: `steps.${i}.id`, message: `duplicate step id '${s.id}' (also steps.${first})` });
    else firstIndex.set(s.id, i);
  });
  const ids = [...firstIndex.keys()];
  const stepIds = new Set(ids);

  // needs restricted to known ids, deduplicated, without self-needs: the input of the graph algorithms.
  const needs = new Map<string, string[]>();
  def.steps.forEach((s, i) => {
    const valid: string[] = [];
    (s.needs ?? []).forEach((n, k) => {
      const at = `steps.${i}.needs.${k}`;
      if (n === s.id) issues.push({ path: at, message: `step '${s.id}' needs itself` });
      else if (!stepIds.has(n)) issues.push({ path: at, message: `'${n}' names no step` });
      else if (valid.includes(n)) issues.push({ path: at, message: `'${n}' is listed twice` });
      else valid.push(n);
    });
    if (firstIndex.get(s.id) === i) needs.set(s.id, valid);
  });
  const cycles = findCycles(ids, needs);
  for (const cycle of cycles) {
    issues.push({ path: `steps.${firstIndex.get(cycle[0]!)}.needs`, message: `steps form a cycle: ${cycle.join(' -> ')} (each needs the next)` });
  }

  const inputFields = declaredInputFields(def.input);
  const plans: DagStepPlan[] = [];
  def.steps.forEach((s, i) => {
    const at = `steps.${i}`;
    const ancestors = ancestorsOf(s.id, needs);
    ancestors.delete(s.id);
    const ctx: RefContext = { form: 'dag', stepIds, ancestors, inputFields };
    const action = typeof s.action === 'string' ? { name: s.action, input: undefined } : s.action;
    if ((action === undefined) === (s.http === undefined)) issues.push({ path: at, message: `step '${s.id}' needs exactly one of action or http` });
    if (action?.input !== undefined && s.input !== undefined) {
      issues.push({ path: `${at}.input`, message: 'give the input either on the step or in action.input, not both' });
    }
    const input = s.input ?? action?.input;
    issues.push(...templateIssues(input, s.input !== undefined ? `${at}.input` : `${at}.action.input`, ctx));
    let http: HttpCall | undefined;
    if (s.http) {
      issues.push(...urlIssues(s.http.url, `${at}.http.url`, ctx), ...headerIssues(s.http.headers, `${at}.http.headers`, ctx));
      http = { url: s.http.url, method: s.http.method ?? 'POST', headers: s.http.headers ?? {} };
      if (http.method === 'GET' && input !== undefined) issues.push({ path: `${at}.input`, message: 'a GET request has no body; drop input or use POST' });
    }
    const { when, timeoutMs, backoffMs } = stepExtras(s, at, ctx, issues);
    if (firstIndex.get(s.id) !== i) return;
    plans.push({
      id: s.id,
      index: i,
      needs: needs.get(s.id) ?? [],
      ancestors: ids.filter((id) => ancestors.has(id)),
      stage: 0, // stage and status are filled in below, once the graph is known to be acyclic
      status: '',
      call: http ? { kind: 'http', http } : { kind: 'action', name: action?.name ?? '' },
      input,
      retry: s.retry ? { attempts: s.retry.attempts, backoffMs: backoffMs ?? DEFAULT_BACKOFF_MS } : undefined,
      timeoutMs,
      when,
    });
  });
  const onComplete = compileOnComplete(def.onComplete, { form: 'dag', stepIds, ancestors: stepIds, inputFields }, issues);
  const { schedules, connectors } = compileTriggers(def, { form: 'dag', input: def.input }, issues);
  if (issues.length > 0) throw new Invalid(`workflow '${def.name}' is invalid`, issues);

  const { order, stages } = topoStages(ids, needs);
  const steps: Record<string, DagStepPlan> = Object.create(null);
  for (const p of plans) steps[p.id] = p;
  const states: Record<string, GraphState> = Object.create(null);
  const edges: GraphEdge[] = [];
  stages.forEach((stageIds, k) => {
    const name = stageStatus(k + 1);
    const ok = k + 1 < stages.length ? stageStatus(k + 2) : DAG_COMPLETED;
    for (const id of stageIds) Object.assign(steps[id]!, { stage: k + 1, status: name });
    states[name] = { name, terminal: false, parallel: 1, work: { kind: 'dag-stage', stage: k + 1, steps: stageIds, ok, error: DAG_FAILED } };
    edges.push({ from: name, to: ok, kind: 'stage-ok' }, { from: name, to: DAG_FAILED, kind: 'stage-error' });
  });
  for (const name of [DAG_COMPLETED, DAG_FAILED]) states[name] = { name, terminal: true, parallel: 1 };
  return {
    kind: 'dag',
    name: def.name,
    description: def.description,
    start: stageStatus(1),
    states,
    edges,
    terminals: [DAG_COMPLETED, DAG_FAILED],
    onComplete,
    dag: { input: def.input, steps, order, stages, completed: DAG_COMPLETED, failed: DAG_FAILED },
    schedules,
    connectors,
  };
}
