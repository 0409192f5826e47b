/** Which paths a definition may use where: checked on submit so a run never meets a path that cannot resolve. */
import type { PathRef } from '../../../kernel/index.ts';

/** Fields of the `run` root, available to every template and condition. */
export const RUN_FIELDS: ReadonlySet<string> = new Set(['id', 'foreignId', 'workflow', 'status']);
/** Fields of `steps.<id>` in a DAG: the step's output and its final status (completed, skipped, failed). */
export const STEP_FIELDS: ReadonlySet<string> = new Set(['output', 'status']);

/** Fields of the `event` root in a connector: `data` may go deeper, the others are strings. */
export const EVENT_FIELDS: ReadonlySet<string> = new Set(['type', 'id', 'data']);
/** Fields of the `schedule` root in a schedule: its name and the slot's time (ISO-8601, UTC). */
export const SCHEDULE_FIELDS: ReadonlySet<string> = new Set(['name', 'at']);

/** Where a path appears: a state machine (object, run), a DAG step (input, steps, run), a connector (event) or a schedule (schedule). */
export type RefContext =
  | { form: 'state-machine' }
  | { form: 'connector' }
  | { form: 'schedule' }
  | {
      form: 'dag';
      /** Every step id of the DAG. */
      stepIds: ReadonlySet<string>;
      /** Steps this step needs directly or indirectly: the only ones whose results exist when it runs. */
      ancestors: ReadonlySet<string>;
      /** Declared top-level input fields, when the DAG declares an object input schema with properties. */
      inputFields?: ReadonlySet<string>;
    };

/** Returns why a path is not usable in this context, or undefined when it is fine. */
export function refProblem(ref: PathRef, ctx: RefContext): string | undefined {
  const [first, second, ...rest] = ref.segments;
  // Triggers render before any run exists, so they see only what started them.
  if (ctx.form === 'connector') {
    const shown = [...EVENT_FIELDS].map((f) => `event.${f}`).join(', ');
    if (ref.root !== 'event') return `'${ref.text}': a connector sees only the event (${shown})`;
    if (first === undefined || !EVENT_FIELDS.has(first)) return `'${ref.text}': use ${shown}`;
    if (first !== 'data' && second !== undefined) return `'${ref.text}': event.${first} has no fields`;
    return undefined;
  }
  if (ctx.form === 'schedule') {
    const shown = [...SCHEDULE_FIELDS].map((f) => `schedule.${f}`).join(', ');
    if (ref.root !== 'schedule') return `'${ref.text}': a schedule sees only ${shown}`;
    if (first === undefined || !SCHEDULE_FIELDS.has(first) || second !== undefined) return `'${ref.text}': use ${shown}`;
    return undefined;
  }
  if (ref.root === 'event' || ref.root === 'schedule') return `'${ref.text}': '${ref.root}' exists only in ${ref.root === 'event' ? 'connectors' : 'schedules'}`;
  if (ref.root === 'run') {
    if (first === undefined || !RUN_FIELDS.has(first) || second !== undefined) {
      return `'${ref.text}': run has only ${[...RUN_FIELDS].map((f) => `run.${f}`).join(', ')}`;
    }
    return undefined;
  }
  if (ctx.form === 'state-machine') {
    if (ref.root !== 'object') return `'${ref.text}': a state machine has no '${ref.root}'; use object.<field> or run.<field>`;
    return undefined;
  }
  if (ref.root === 'object') return `'${ref.text}': a DAG has no 'object'; use input.<field> or steps.<id>.output.<field>`;
  if (ref.root === 'input') {
    if (first !== undefined && ctx.inputFields && !ctx.inputFields.has(first)) {
      return `'${ref.text}': the input schema declares no field '${first}'`;
    }
    return undefined;
  }
  // root === 'steps'
  if (first === undefined) return `'${ref.text}': name a step, e.g. steps.<id>.output`;
  if (!ctx.stepIds.has(first)) return `'${ref.text}' refers to an unknown step '${first}'`;
  if (!ctx.ancestors.has(first)) return `'${ref.text}': step '${first}' is not among this step's needs (directly or indirectly), so its result may not exist yet`;
  if (second === undefined || !STEP_FIELDS.has(second)) return `'${ref.text}': use steps.${first}.output[.field] or steps.${first}.status`;
  if (second === 'status' && rest.length > 0) return `'${ref.text}': steps.${first}.status has no fields`;
  return undefined;
}
