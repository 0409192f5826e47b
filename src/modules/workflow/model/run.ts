/** What a step sees: the run's ids, status and object, and the controls a step may use instead of returning a status. */
import type { RunState } from './run-state.ts';

/** A workflow run as the store keeps it and as steps, callbacks and the API see it. */
export interface RunRecord<Obj = unknown, Status extends string = string> {
  runId: string;
  workflow: string;
  foreignId: string;
  runState: RunState;
  status: Status;
  object: Obj;
  version: number;
  statusDescription: string | null;
  reason: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type { RunState };

/** Special outcomes a step can return instead of a next status. */
export type StepControl =
  | { control: 'pause'; reason: string }
  | { control: 'cancel'; reason: string }
  | { control: 'skip' }
  | { control: 'saveAndRepeat' };

/** The run handed to a step: the record plus controls. `object` may be mutated; it is saved with the transition. */
export interface Run<Obj = unknown, Status extends string = string> extends RunRecord<Obj, Status> {
  /** Pause the run (runState paused) with a reason; resume later through the API. */
  pause(reason: string): StepControl;
  /** Cancel the run (runState cancelled). */
  cancel(reason: string): StepControl;
  /** Do nothing for this event: the run stays where it is. */
  skip(): StepControl;
  /** Save the (mutated) object and run this step again. */
  saveAndRepeat(): StepControl;
}

/** Wraps a record into the Run a step receives; the object is a deep copy the step may change. */
export function toRun<Obj, Status extends string>(r: RunRecord<Obj, Status>): Run<Obj, Status> {
  return {
    ...r,
    object: structuredClone(r.object),
    pause: (reason) => ({ control: 'pause', reason }),
    cancel: (reason) => ({ control: 'cancel', reason }),
    skip: () => ({ control: 'skip' }),
    saveAndRepeat: () => ({ control: 'saveAndRepeat' }),
  };
}

/** True when a step returned a control instead of a status. */
export function isControl(v: unknown): v is StepControl {
  return typeof v === 'object' && v !== null && 'control' in v;
}
