/**
 * Checks `schedules:` and `connectors:` of either definition form and normalizes them into the graph, pushing one
 * issue per problem (paths like `connectors.1.callback.to`). Templates and conditions reuse the definition's own
 * parsers, with the `event` (connectors) or `schedule` (schedules) root as their only scope.
 */
import { ExpressionError, Invalid, parseSchedule, validatePattern, type Condition, type FieldIssue } from '../../../../kernel/index.ts';
import type { GraphConnector, GraphSchedule } from '../graph.ts';
import { checkInput, type InputSchemaLite } from '../input-schema.ts';
import { refProblem, type RefContext } from '../ref-rules.ts';
import { templateIssues } from '../template-checks.ts';
import { expressions } from '../expressions.ts';
import type { ConnectorDefinition, ScheduleDefinition } from '../triggers-schema.ts';

/** What the triggers may address: the state machine's callback states, or a DAG's input schema. */
export type TriggerTarget = { form: 'state-machine'; callbacks: ReadonlyMap<string, readonly string[]> } | { form: 'dag'; input?: InputSchemaLite };

const CONNECTOR: RefContext = { form: 'connector' };
const SCHEDULE: RefContext = { form: 'schedule' };

/** One issue per repeated name, pointing at the later one. */
function duplicateNames(items: readonly { name: string }[], key: string, what: string, issues: FieldIssue[]): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const at = first.get(item.name);
    if (at !== undefined) issues.push({ path: `${key}.${i}.name`, message: `duplicate ${what} name '${item.name}' (also ${key}.${at})` });
    else first.set(item.name, i);
  });
}

/** A literal object (no `{{ }}` in it) can be checked against a DAG's input schema now rather than at every trigger. */
function literalInputIssues(target: TriggerTarget, object: unknown, path: string): FieldIssue[] {
  if (target.form !== 'dag' || !target.input) return [];
  const { refs, issues } = expressions.collectTemplateRefs(object, path);
  if (refs.length > 0 || issues.length > 0) return [];
  return checkInput(target.input, object === undefined ? {} : object, path);
}

function compileSchedule(s: ScheduleDefinition, at: string, target: TriggerTarget, issues: FieldIssue[]): GraphSchedule {
  try {
    // Parsing also steps once, which refuses an expression that can never match, such as 31 April.
    parseSchedule(s.cron, { timezone: s.timezone, path: `${at}.cron`, timezonePath: `${at}.timezone` });
  } catch (err) {
    if (!(err instanceof Invalid)) throw err;
    issues.push(...err.issues);
  }
  issues.push(...templateIssues(s.foreignId, `${at}.foreignId`, SCHEDULE), ...templateIssues(s.object, `${at}.object`, SCHEDULE));
  issues.push(...literalInputIssues(target, s.object, `${at}.object`));
  return { name: s.name, cron: s.cron, ...(s.timezone !== undefined ? { timezone: s.timezone } : {}), foreignId: s.foreignId, object: s.object };
}

function compileWhen(source: string, path: string, issues: FieldIssue[]): Condition | undefined {
  try {
    const when = expressions.parseCondition(source);
    for (const ref of when.refs) {
      const problem = refProblem(ref, CONNECTOR);
      if (problem) issues.push({ path, message: problem });
    }
    return when;
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    issues.push({ path, message: err.message });
    return undefined;
  }
}

function compileCallback(cb: NonNullable<ConnectorDefinition['callback']>, at: string, target: TriggerTarget, issues: FieldIssue[]): void {
  if (target.form === 'dag') {
    issues.push({ path: at, message: 'a DAG has no states that wait for a callback; a DAG connector can only trigger' });
    return;
  }
  const waiting = [...target.callbacks.keys()];
  const to = target.callbacks.get(cb.status);
  if (!to) {
    const list = waiting.length > 0 ? `states with a callback: ${waiting.join(', ')}` : 'no state has a callback';
    issues.push({ path: `${at}.status`, message: `'${cb.status}' is not a state that waits for a callback (${list})` });
  } else if (!to.includes(cb.to)) {
    issues.push({ path: `${at}.to`, message: `'${cb.to}' is not a destination of the callback at '${cb.status}' (one of: ${to.join(', ')})` });
  }
}

// Names derived from the workflow and connector names (roles, durables) are bounded in names.ts whatever their length.
function compileConnector(c: ConnectorDefinition, at: string, target: TriggerTarget, issues: FieldIssue[]): GraphConnector {
  if (c.subject !== undefined) {
    try {
      validatePattern(c.subject, `${at}.subject`);
    } catch (err) {
      if (!(err instanceof Invalid)) throw err;
      issues.push(...err.issues.map((i) => ({ path: i.path, message: `'${c.subject}' ${i.message}` })));
    }
  }
  const when = c.when === undefined ? undefined : compileWhen(c.when, `${at}.when`, issues);
  if ((c.trigger === undefined) === (c.callback === undefined)) issues.push({ path: at, message: `connector '${c.name}' needs exactly one of trigger or callback` });
  if (c.trigger) {
    issues.push(...templateIssues(c.trigger.foreignId, `${at}.trigger.foreignId`, CONNECTOR), ...templateIssues(c.trigger.object, `${at}.trigger.object`, CONNECTOR));
    issues.push(...literalInputIssues(target, c.trigger.object, `${at}.trigger.object`));
  }
  if (c.callback) {
    issues.push(...templateIssues(c.callback.foreignId, `${at}.callback.foreignId`, CONNECTOR), ...templateIssues(c.callback.object, `${at}.callback.object`, CONNECTOR));
    compileCallback(c.callback, `${at}.callback`, target, issues);
  }
  return { name: c.name, subject: c.subject, when, parallel: c.parallel, trigger: c.trigger, callback: c.callback };
}

/** Checks and normalizes both lists; issues are pushed, never thrown, so the caller reports them with the rest. */
export function compileTriggers(
  def: { name: string; schedules?: ScheduleDefinition[]; connectors?: ConnectorDefinition[] },
  target: TriggerTarget,
  issues: FieldIssue[],
): { schedules?: GraphSchedule[]; connectors?: GraphConnector[] } {
  const schedules = def.schedules ?? [];
  const connectors = def.connectors ?? [];
  duplicateNames(schedules, 'schedules', 'schedule', issues);
  duplicateNames(connectors, 'connectors', 'connector', issues);
  return {
    schedules: def.schedules && schedules.map((s, i) => compileSchedule(s, `schedules.${i}`, target, issues)),
    connectors: def.connectors && connectors.map((c, i) => compileConnector(c, `connectors.${i}`, target, issues)),
  };
}
