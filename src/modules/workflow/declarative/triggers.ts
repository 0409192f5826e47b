/**
 * Turns a definition's checked `connectors:` and `schedules:` into the runtime's ConnectorSpec and ScheduleSpec, the
 * same ones `.connector()` and `.schedule()` build for code-defined workflows. Templates render with `interpolate`
 * against `{ event }` or `{ schedule }`; conditions evaluate with `evaluateCondition`.
 */
import { evaluateCondition, Invalid, resolveRef, type FieldIssue, type Logger, type RefScope } from '../../../kernel/index.ts';
import type { ConnectorAction, ConnectorSpec, ScheduleSpec } from '../model/builder.ts';
import { checkInput, expressions, type GraphConnector, type GraphSchedule, type WorkflowGraph } from '../definition/index.ts';

/** Longest foreign id a template may render (the trigger route's limit too). */
export const MAX_FOREIGN_ID = 200;

/** The event a connector function receives; webhook deliveries have type 'webhook'. */
type ConnectorEvent = Parameters<ConnectorSpec['fn']>[0];

/**
 * Renders a foreign id template, or says why it cannot: every path in it must hold a string, number or boolean, so
 * events that lack the field never collapse onto one shared foreign id (such as `order-`).
 */
function renderForeignId(template: string, scope: RefScope): { id: string } | { why: string } {
  for (const part of expressions.parseTemplateString(template)) {
    if (!('ref' in part)) continue;
    const v = resolveRef(scope, part.ref);
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') return { why: `'${part.ref.text}' is ${v === undefined || v === null ? 'missing' : 'not a string, number or boolean'}` };
  }
  const id = expressions.interpolateText(template, scope);
  if (id.length === 0 || id.length > MAX_FOREIGN_ID) return { why: `'${template}' rendered ${id.length} characters; a foreign id has 1 to ${MAX_FOREIGN_ID}` };
  return { id };
}

/**
 * Event data that does not fit the connector: a webhook caller gets a 400 naming the field; a bus event is skipped
 * with a warning, because redelivering it could never succeed.
 */
function unusable(event: ConnectorEvent, workflow: string, connector: string, issues: FieldIssue[], log?: Logger): undefined {
  if (event.type === 'webhook') throw new Invalid(`connector '${connector}' of workflow '${workflow}' cannot use this body`, issues);
  log?.warn({ workflow, connector, eventId: event.id, type: event.type, issues }, 'connector skipped an event it cannot use');
  return undefined;
}

/** The function behind one declarative connector. */
function connectorFn(graph: WorkflowGraph, c: GraphConnector, log?: Logger): ConnectorSpec['fn'] {
  const at = `connectors.${c.name}`;
  return (event) => {
    const scope: RefScope = { event: { type: event.type, id: event.id, data: event.data } };
    if (c.when && !evaluateCondition(c.when, scope)) return undefined;
    const spec = c.trigger ?? c.callback!;
    const kind = c.trigger ? 'trigger' : 'callback';
    const rendered = renderForeignId(spec.foreignId, scope);
    if ('why' in rendered) return unusable(event, graph.name, c.name, [{ path: `${at}.${kind}.foreignId`, message: rendered.why }], log);
    const foreignId = rendered.id;
    const object = spec.object === undefined ? undefined : expressions.interpolate(spec.object, scope);
    if (c.callback) return { callback: { foreignId, status: c.callback.status, body: { status: c.callback.to, ...(object === undefined ? {} : { object }) } } } satisfies ConnectorAction;
    // A DAG checks its input when the run is created; checking here keeps a bad event from being redelivered forever.
    const input = graph.dag?.input;
    const issues = input ? checkInput(input, object === undefined ? {} : object, 'object') : [];
    if (issues.length > 0) return unusable(event, graph.name, c.name, issues, log);
    return { trigger: { foreignId, object } } satisfies ConnectorAction;
  };
}

/** The runtime connectors of a compiled definition. */
export function connectorsFromGraph(graph: WorkflowGraph, log?: Logger): ConnectorSpec[] {
  return (graph.connectors ?? []).map((c) => ({ name: c.name, ...(c.subject !== undefined ? { source: c.subject } : {}), fn: connectorFn(graph, c, log), parallel: c.parallel }));
}

/** True when a JSON template holds at least one `{{ path }}`. */
function hasRefs(template: unknown): boolean {
  if (typeof template === 'string') return expressions.parseTemplateString(template).some((p) => 'ref' in p);
  if (Array.isArray(template)) return template.some(hasRefs);
  if (template !== null && typeof template === 'object') return Object.values(template).some(hasRefs);
  return false;
}

/** One runtime schedule; only a templated one renders per slot. */
function scheduleSpec(s: GraphSchedule): ScheduleSpec {
  const spec: ScheduleSpec = { name: s.name, cron: s.cron, ...(s.timezone !== undefined ? { timezone: s.timezone } : {}), foreignId: s.foreignId, object: s.object };
  if (!hasRefs(s.foreignId) && !hasRefs(s.object)) return spec;
  spec.render = (at) => {
    const scope: RefScope = { schedule: { name: s.name, at: at.toISOString() } };
    // Both schedule fields are non-empty strings, so a checked template never renders an empty foreign id.
    return { foreignId: expressions.interpolateText(s.foreignId, scope), object: s.object === undefined ? undefined : expressions.interpolate(s.object, scope) };
  };
  return spec;
}

/** The runtime schedules of a compiled definition. */
export function schedulesFromGraph(graph: WorkflowGraph): ScheduleSpec[] {
  return (graph.schedules ?? []).map(scheduleSpec);
}
