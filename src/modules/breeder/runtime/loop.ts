/**
 * The breeder loop: one long queue job per worker slot. Each turn claims a trial number (refused once the breeder
 * is stopped, so a stop takes effect before the next trial), samples from the whole history (so a restarted worker
 * rebuilds its sampler from the trials), runs the trial, records it and checks completion. A job that starts again after its
 * worker died first fails the trial that worker left running.
 */
import { parseDuration, type Job, type Logger } from '../../../kernel/index.ts';
import type { Definition } from '../model/definition.ts';
import type { Params } from '../model/space.ts';
import { bestTrial, createSampler, type TrialRecord } from '../samplers/index.ts';
import type { BreederRow, BreederStore } from '../store/index.ts';
import { toRecord } from './loop-records.ts';
import { rollBack } from './rollback.ts';
import { sharedHistory } from './cooperation.ts';
import type { EffectuationPolicy } from './effectuate.ts';
import type { BreederMetrics } from './metrics.ts';
import { runTrial } from './trial.ts';
import { TrialHistory } from './trial-history.ts';

/** The queue the loop jobs run on (worker group `long`). */
export const BREEDER_QUEUE = 'breeder';

/** One loop job: a worker slot of one start (generation) of a breeder. */
export interface SlotJob {
  breederId: string;
  generation: number;
  slot: number;
}

/** The job id of a slot: the same for the same start, so re-enqueueing after a restart adds nothing twice. */
export function slotJobId(j: SlotJob): string {
  return `breeder_${j.breederId}_g${j.generation}_s${j.slot}`;
}

/** What the loop needs. */
export interface LoopDeps {
  store: BreederStore;
  metrics: BreederMetrics;
  log: Logger;
  instanceId: string;
  policy: EffectuationPolicy;
}

export { toRecord } from './loop-records.ts';

/** True when every objective that has a quality_threshold reached it in this trial (and at least one has one). */
export function qualityAchieved(def: Definition, values: readonly (number | null)[] | null): boolean {
  const goals = def.objectives.map((o, i) => ({ o, v: values?.[i] })).filter((x) => x.o.quality_threshold !== undefined);
  if (goals.length === 0) return false;
  return goals.every(({ o, v }) => typeof v === 'number' && (o.direction === 'minimize' ? v <= o.quality_threshold! : v >= o.quality_threshold!));
}

function current(b: BreederRow, generation: number): boolean {
  return b.status === 'running' && b.generation === generation;
}

/** Runs one slot until the breeder stops, completes or this worker closes (then it throws, so the job runs again). */
export async function runSlot(job: Job<SlotJob>, deps: LoopDeps): Promise<{ trials: number; ended: string }> {
  const { breederId, generation, slot } = job.data;
  const { store, metrics } = deps;
  const breeder = await store.get(breederId);
  if (!current(breeder, generation)) return { trials: 0, ended: 'stale' };
  const ref = { id: breeder.id, name: breeder.name };
  const abandoned = await store.trials.abandon(ref, slot, `abandoned: the worker running slot ${slot} died; the slot resumed on ${deps.instanceId}`);
  if (abandoned.length) {
    // Abandoned trials end as `fail` rows; counted here, where they end, so the counter's states add up to the API's.
    metrics.trials.inc({ breeder: breeder.name, state: 'fail' }, abandoned.length);
    deps.log.warn({ breeder: breeder.name, slot, abandoned }, 'failed the trials a dead worker left running');
  }
  const def = breeder.definition;
  const sampler = createSampler(def.algorithm, { space: def.space, directions: def.objectives.map((o) => o.direction) });
  const maxDurationMs = def.run.max_duration ? parseDuration(def.run.max_duration) : undefined;
  const own = new TrialHistory((from) => store.trials.since(breederId, from));
  const members = new Map<string, TrialHistory>();
  metrics.activeWorkers.inc({ breeder: breeder.name });
  let trials = 0;
  let failures = 0;
  try {
    for (;;) {
      if (job.signal.aborted) throw new Error('the worker is closing; the slot runs again elsewhere');
      // No read of the breeder per turn: the claim below only succeeds while it runs in this generation, so a stop
      // or a new start shows up as a refused claim (finishIfLast then reads why).
      if (maxDurationMs !== undefined && Date.now() - Date.parse(breeder.startedAt!) >= maxDurationMs) {
        await store.complete(breederId, generation, 'max_duration');
        return { trials, ended: 'max_duration' };
      }
      const number = await store.trials.claim(breederId, generation, def.run.max_trials, slot, deps.instanceId);
      if (number === null) return { trials, ended: await finishIfLast(deps, breederId, generation) };
      const t0 = performance.now();
      const { rows: history, records } = await own.refresh();
      const shared = def.cooperation ? await cooperatingHistory(store, def, breederId, members) : [];
      const sampled = sampler.sample({ trials: shared.length ? [...shared, ...records] : records, number });
      metrics.phase.observe({ phase: 'sample' }, (performance.now() - t0) / 1000);
      if (sampled.kind === 'exhausted') {
        if (await store.trials.finish(ref, number, {}, { state: 'pruned', values: null, observations: null, constraints: null, error: 'the sampler has nothing new to try', durations: {} })) {
          metrics.trials.inc({ breeder: breeder.name, state: 'pruned' });
        }
        await store.complete(breederId, generation, 'exhausted');
        return { trials, ended: 'exhausted' };
      }
      const params: Params = sampled.params;
      await store.trials.setParams(breederId, number, params);
      const outcome = await runTrial(def, params, { number, breeder: ref }, deps.policy, job.signal);
      for (const [phase, ms] of Object.entries(outcome.durations)) metrics.phase.observe({ phase }, ms / 1000);
      const recorded = await store.trials.finish(ref, number, params, outcome);
      trials++;
      if (!recorded) continue;
      metrics.trials.inc({ breeder: breeder.name, state: outcome.state });
      // The row holds the error for the API; the log line is for whoever watches the instance (a failing evaluator
      // or target otherwise shows up only as a slowly growing fail count).
      if (outcome.error) deps.log.warn({ breeder: breeder.name, trial: number, state: outcome.state, error: outcome.error }, outcome.state === 'fail' ? 'trial failed' : 'trial finished with a problem');
      failures = outcome.state === 'fail' ? failures + 1 : 0;
      if (def.rollback && failures >= def.rollback.after_consecutive_failures) {
        failures = 0;
        const ended = await applyRollback(deps, def, ref, generation, job.signal);
        if (ended) return { trials, ended };
      }
      if (outcome.state === 'complete') {
        if (def.objectives.length === 1) updateBest(deps, def, breeder.name, [...history.filter((h) => h.number !== number).map(toRecord), { params, values: outcome.values as number[], state: 'complete', constraints: outcome.constraints }]);
        if (def.run.stop_when_quality_achieved && qualityAchieved(def, outcome.values)) {
          await store.complete(breederId, generation, 'quality');
          return { trials, ended: 'quality' };
        }
      }
    }
  } finally {
    metrics.activeWorkers.dec({ breeder: breeder.name });
  }
}

/** Rolls the target back; returns how the slot ends (`stopped`) or null to continue. A failed rollback stops the breeder. */
async function applyRollback(deps: LoopDeps, def: Definition, ref: { id: string; name: string }, generation: number, signal: AbortSignal): Promise<string | null> {
  const rb = def.rollback!;
  const history = await deps.store.trials.all(ref.id);
  let why: string;
  try {
    const params = await rollBack(def, history, ref, deps.policy, signal);
    why = params ? `rolled back to ${rb.to} ${JSON.stringify(params)} after ${rb.after_consecutive_failures} consecutive failures` : `no ${rb.to} trial to roll back to after ${rb.after_consecutive_failures} consecutive failures`;
  } catch (err) {
    signal.throwIfAborted();
    await deps.store.halt(ref.id, generation, `rollback failed: ${(err as Error).message}`);
    return 'stopped';
  }
  deps.log.warn({ breeder: ref.name, then: rb.then }, why);
  if (rb.then === 'continue') return null;
  await deps.store.halt(ref.id, generation, `${rb.then === 'pause' ? 'paused' : 'stopped'}: ${why}`);
  return 'stopped';
}

function updateBest(deps: LoopDeps, def: Definition, name: string, records: TrialRecord[]): void {
  const i = bestTrial(records, def.objectives[0]!.direction);
  const v = i === null ? undefined : records[i]!.values?.[0];
  if (typeof v === 'number') deps.metrics.best.set({ breeder: name, objective: def.objectives[0]!.name }, v);
}

/** The trials the other members of the breeder's group share with it; `cache` keeps each member's history between turns. */
async function cooperatingHistory(store: BreederStore, def: Definition, breederId: string, cache: Map<string, TrialHistory>): Promise<TrialRecord[]> {
  const members = await store.groupMembers(def.cooperation!.group, breederId);
  // A member that left the group (or was deleted) is forgotten; one that comes back is read whole again.
  for (const id of cache.keys()) if (!members.some((m) => m.id === id)) cache.delete(id);
  const read = async (id: string) => {
    let h = cache.get(id);
    if (!h) cache.set(id, (h = new TrialHistory((from) => store.trials.since(id, from))));
    return (await h.refresh()).rows;
  };
  return sharedHistory(def, await Promise.all(members.map(async (m) => ({ definition: m.definition, trials: await read(m.id) }))));
}

/** max_trials handed out: the slot that sees no trial still running completes the breeder (once, by the status guard). */
async function finishIfLast(deps: LoopDeps, breederId: string, generation: number): Promise<string> {
  const b = await deps.store.get(breederId);
  if (!current(b, generation)) return b.status;
  const counts = await deps.store.trials.counts(breederId);
  if ((counts.running ?? 0) > 0) return 'others-running';
  await deps.store.complete(breederId, generation, 'max_trials');
  return 'max_trials';
}
