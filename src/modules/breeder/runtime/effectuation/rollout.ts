/**
 * Whether a workload's rollout is done, read from the object the API server returns, the way `kubectl rollout
 * status` decides: the controller has observed the latest generation and every replica runs the new template.
 */

/** Done, still waiting (with what for), or failed for good. */
export type RolloutProgress = { done: true } | { done: false; waiting: string } | { done: false; failed: string };

type Obj = Record<string, unknown>;

function field(o: unknown, ...path: string[]): unknown {
  let cur = o;
  for (const p of path) cur = cur !== null && typeof cur === 'object' ? (cur as Obj)[p] : undefined;
  return cur;
}

function count(o: unknown, ...path: string[]): number {
  const v = field(o, ...path);
  return typeof v === 'number' ? v : 0;
}

/** The controller has seen the object's latest spec. */
function observed(obj: unknown): RolloutProgress | null {
  const generation = count(obj, 'metadata', 'generation');
  const seen = count(obj, 'status', 'observedGeneration');
  return seen >= generation ? null : { done: false, waiting: `the controller to observe generation ${generation} (it has seen ${seen})` };
}

function deployment(obj: unknown): RolloutProgress {
  const conditions = field(obj, 'status', 'conditions');
  if (Array.isArray(conditions) && conditions.some((c) => field(c, 'type') === 'Progressing' && field(c, 'reason') === 'ProgressDeadlineExceeded')) {
    return { done: false, failed: 'the deployment exceeded its progress deadline' };
  }
  const wanted = typeof field(obj, 'spec', 'replicas') === 'number' ? count(obj, 'spec', 'replicas') : 1;
  const updated = count(obj, 'status', 'updatedReplicas');
  if (updated < wanted) return { done: false, waiting: `${updated} of ${wanted} replicas updated` };
  const total = count(obj, 'status', 'replicas');
  if (total > updated) return { done: false, waiting: `${total - updated} old replicas pending termination` };
  const available = count(obj, 'status', 'availableReplicas');
  if (available < updated) return { done: false, waiting: `${available} of ${updated} updated replicas available` };
  return { done: true };
}

function statefulSet(obj: unknown): RolloutProgress {
  const wanted = typeof field(obj, 'spec', 'replicas') === 'number' ? count(obj, 'spec', 'replicas') : 1;
  const ready = count(obj, 'status', 'readyReplicas');
  if (ready < wanted) return { done: false, waiting: `${ready} of ${wanted} replicas ready` };
  const updated = count(obj, 'status', 'updatedReplicas');
  if (updated < wanted) return { done: false, waiting: `${updated} of ${wanted} replicas updated` };
  const current = field(obj, 'status', 'currentRevision');
  const update = field(obj, 'status', 'updateRevision');
  if (typeof update === 'string' && current !== update) return { done: false, waiting: `revision ${String(update)} to become current` };
  return { done: true };
}

function daemonSet(obj: unknown): RolloutProgress {
  const wanted = count(obj, 'status', 'desiredNumberScheduled');
  const updated = count(obj, 'status', 'updatedNumberScheduled');
  if (updated < wanted) return { done: false, waiting: `${updated} of ${wanted} pods updated` };
  const available = count(obj, 'status', 'numberAvailable');
  if (available < wanted) return { done: false, waiting: `${available} of ${wanted} updated pods available` };
  return { done: true };
}

/** The rollout progress of a Deployment, StatefulSet or DaemonSet as the API server returned it. */
export function rolloutProgress(kind: 'Deployment' | 'StatefulSet' | 'DaemonSet', obj: unknown): RolloutProgress {
  const pending = observed(obj);
  if (pending) return pending;
  if (kind === 'Deployment') return deployment(obj);
  if (kind === 'StatefulSet') return statefulSet(obj);
  return daemonSet(obj);
}
