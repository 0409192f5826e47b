/** Checks a parsed state-machine definition and compiles it to a WorkflowGraph; every problem is reported at once. */
import { collectDuration, DEFAULT_BACKOFF_MS, Invalid, type FieldIssue } from '../../../../kernel/index.ts';
import { compileOnComplete } from './on-complete.ts';
import { compileTriggers } from './triggers.ts';
import type { EdgeKind, GraphEdge, GraphState, StateWork, WorkflowGraph } from '../graph.ts';
import { graphIssues } from '../graph-checks.ts';
import type { RefContext } from '../ref-rules.ts';
import type { StateDefinition, StateMachineDefinition } from '../state-machine-schema.ts';
import { headerIssues, templateIssues, urlIssues } from '../template-checks.ts';

const CTX: RefContext = { form: 'state-machine' };

/** "(states: a, b, c)" for messages, shortened when long. */
function known(names: readonly string[]): string {
  const shown = names.slice(0, 20).join(', ');
  return names.length > 20 ? `(states: ${shown}, ...)` : `(states: ${shown})`;
}

/** Compiles one state, pushing its issues and its edges. */
function compileState(name: string, s: StateDefinition, names: ReadonlySet<string>, issues: FieldIssue[], edges: GraphEdge[]): GraphState {
  const at = `states.${name}`;
  const edge = (to: string, kind: EdgeKind, path: string): void => {
    if (!names.has(to)) issues.push({ path, message: `'${to}' names no state ${known([...names])}` });
    else edges.push({ from: name, to, kind });
  };
  const list = (tos: string[], kind: EdgeKind, path: string): void => {
    const seen = new Set<string>();
    tos.forEach((to, i) => {
      if (seen.has(to)) issues.push({ path: `${path}.${i}`, message: `'${to}' is listed twice` });
      else edge(to, kind, `${path}.${i}`);
      seen.add(to);
    });
  };

  const kinds = (['http', 'action', 'command'] as const).filter((k) => s[k] !== undefined);
  if (kinds.length > 1) issues.push({ path: at, message: `a state has at most one of http, action or command (found ${kinds.join(', ')})` });

  let work: StateWork | undefined;
  if (s.http) {
    issues.push(...urlIssues(s.http.url, `${at}.http.url`, CTX), ...headerIssues(s.http.headers, `${at}.http.headers`, CTX));
    list(s.http.to, 'http', `${at}.http.to`);
    work = { kind: 'http', http: { url: s.http.url, method: 'POST', headers: s.http.headers ?? {}, timeoutMs: s.http.timeoutMs }, to: s.http.to };
  }
  if (s.action) {
    issues.push(...templateIssues(s.action.input, `${at}.action.input`, CTX));
    edge(s.action.on.ok, 'action-ok', `${at}.action.on.ok`);
    if (s.action.on.error !== undefined) edge(s.action.on.error, 'action-error', `${at}.action.on.error`);
    work ??= { kind: 'action', action: { name: s.action.name, input: s.action.input }, ok: s.action.on.ok, error: s.action.on.error };
  }
  if (s.command) {
    s.command.argv.forEach((arg, i) => issues.push(...templateIssues(arg, `${at}.command.argv.${i}`, CTX)));
    list(s.command.to, 'command', `${at}.command.to`);
    work ??= { kind: 'command', argv: s.command.argv, to: s.command.to, timeoutMs: s.command.timeoutMs };
  }
  if (s.callback) list(s.callback.to, 'callback', `${at}.callback.to`);
  let timeout: GraphState['timeout'];
  if (s.timeout) {
    const afterMs = collectDuration(s.timeout.after, `${at}.timeout.after`, issues);
    if (afterMs === 0) issues.push({ path: `${at}.timeout.after`, message: 'a timeout must be longer than 0' });
    edge(s.timeout.to, 'timeout', `${at}.timeout.to`);
    if (afterMs !== undefined) timeout = { afterMs, to: s.timeout.to };
  }
  // These tune the state's automatic work; on a state without any they would silently do nothing.
  for (const key of ['parallel', 'retry', 'pauseAfterErrCount'] as const) {
    if (s[key] !== undefined && !work) issues.push({ path: `${at}.${key}`, message: `${key} applies only to a state with http, action or command` });
  }
  const backoffMs = s.retry?.backoff === undefined ? DEFAULT_BACKOFF_MS : collectDuration(s.retry.backoff, `${at}.retry.backoff`, issues);
  const terminal = !work && !s.callback && !s.timeout;
  return {
    name,
    description: s.description,
    terminal,
    work,
    callback: s.callback ? { to: s.callback.to } : undefined,
    timeout,
    parallel: s.parallel ?? 1,
    retry: s.retry ? { attempts: s.retry.attempts, backoffMs: backoffMs ?? DEFAULT_BACKOFF_MS } : undefined,
    pauseAfterErrCount: s.pauseAfterErrCount,
  };
}

/** Compiles a state machine; throws Invalid listing every issue (paths like `states.paid.http.to.1`). */
export function compileStateMachine(def: StateMachineDefinition): WorkflowGraph {
  const issues: FieldIssue[] = [];
  const names = Object.keys(def.states);
  const nameSet = new Set(names);
  const edges: GraphEdge[] = [];
  const states: Record<string, GraphState> = Object.create(null);
  for (const name of names) states[name] = compileState(name, def.states[name]!, nameSet, issues, edges);

  if (names.length === 0) issues.push({ path: 'states', message: 'a workflow needs at least one state' });
  if (!nameSet.has(def.start)) {
    if (names.length > 0) issues.push({ path: 'start', message: `start '${def.start}' names no state ${known(names)}` });
  } else {
    issues.push(...graphIssues(def.start, names, edges, names.filter((n) => states[n]!.terminal)));
  }
  const onComplete = compileOnComplete(def.onComplete, CTX, issues);
  const callbacks = new Map(names.flatMap((n) => (states[n]!.callback ? [[n, states[n]!.callback!.to] as const] : [])));
  const { schedules, connectors } = compileTriggers(def, { form: 'state-machine', callbacks }, issues);
  if (issues.length > 0) throw new Invalid(`workflow '${def.name}' is invalid`, issues);
  return {
    kind: 'state-machine',
    name: def.name,
    description: def.description,
    start: def.start,
    states,
    edges,
    terminals: names.filter((n) => states[n]!.terminal),
    onComplete,
    schedules,
    connectors,
  };
}
