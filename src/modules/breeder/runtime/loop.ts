/**
 * The breeder loop: one long queue job per worker slot. Each turn claims a trial number (refused once the breeder
 * is stopped, so a stop takes effect before the next trial), samples from the whole history (so a restarted worker
 * rebuilds its sampler from the trials), runs the trial, records it and checks completion. A job that starts again after its
 * worker died first fails the trial that worker left running.
 */
import { Invalid, isTransient, parseDuration, sleepUnlessAborted, type Job, type Logger } from '../../../kernel/index.ts';
import type { Definition } from '../model/definition.ts';
import type { Params } from '../model/space.ts';
import { bestTrial, createSampler, type SampleResult, type Sampler, type TrialRecord } from '../samplers/index.ts';
import type { BreederRow, BreederStore, TrialRow } from '../store/index.ts';
import { toRecord } from './loop-records.ts';
import { rollBack } from './rollback.ts';
import { sharedHistory } from './cooperation.ts';
import type { EffectuationPolicy } from './effectuate.ts';
import type { BreederMetrics } from './metrics.ts';
import type { StopRequests } from './stop-requests.ts';
import { runTrial } from './trial.ts';
import { TrialBuffer } from './trial-buffer.ts';
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

/** How a slot rides out a database outage (runtime/trial-buffer.ts). */
export interface OutageOptions {
  /** Most trials one slot keeps in memory while the database is away; a full buffer makes the slot wait. */
  bufferLimit: number;
  /** How long a slot that cannot go on waits before it tries the database again. */
  retryMs: number;
}

/** What the loop needs. */
export interface LoopDeps {
  store: BreederStore;
  metrics: BreederMetrics;
  log: Logger;
  instanceId: string;
  policy: EffectuationPolicy;
  outage?: OutageOptions;
  /** Stops asked for while the database is away (runtime/stop-requests.ts); without it a stop needs the database. */
  stops?: StopRequests;
  /** Builds the slot's sampler (default: the one `algorithm:` names); tests put a failing one here. */
  samplerFor?: (def: Definition) => Sampler;
}

/** The sampler a definition's `algorithm:` names. */
const samplerOf = (def: Definition): Sampler => createSampler(def.algorithm, { space: def.space, directions: def.objectives.map((o) => o.direction) });

const DEFAULT_OUTAGE: OutageOptions = { bufferLimit: 1000, retryMs: 1000 };

/**
 * Sampling numbers of trials run during an outage: far above any claimed number and apart per slot, so their random
 * streams differ from every numbered trial's and from each other slot's (the number they get when written differs).
 */
const OFFLINE_NUMBERS = 2 ** 30;
const OFFLINE_PER_SLOT = 2 ** 20;

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

function message(err: unknown): string {
  // An Invalid's message alone ("invalid sampler configuration") does not say what to fix; its issues do.
  if (err instanceof Invalid && err.issues.length) return `${err.message}: ${err.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`;
  return err instanceof Error ? err.message : String(err);
}

/** Runs one slot until the breeder stops, completes or fails, or this worker closes (then it throws, so the job runs again). */
export async function runSlot(job: Job<SlotJob>, deps: LoopDeps): Promise<{ trials: number; ended: string }> {
  const { breederId, generation, slot } = job.data;
  const { store, metrics } = deps;
  const outage = deps.outage ?? DEFAULT_OUTAGE;
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
  let sampler: Sampler;
  try {
    sampler = (deps.samplerFor ?? samplerOf)(def);
  } catch (err) {
    // A definition stored before a rule it breaks: retrying the job cannot help, so the breeder says why it stopped.
    return { trials: 0, ended: await failBreeder(deps, ref, generation, `the sampler cannot be built: ${message(err)}`) };
  }
  const maxDurationMs = def.run.max_duration ? parseDuration(def.run.max_duration) : undefined;
  const own = new TrialHistory((from) => store.trials.since(breederId, from));
  const members = new Map<string, TrialHistory>();
  let shared: TrialRecord[] = [];
  const buffer = new TrialBuffer(outage.bufferLimit, (d) => metrics.buffered.inc({ breeder: breeder.name }, d));
  // The database's view of this slot while it answers; during an outage, what the slot last knew.
  let lastClaimed = breeder.nextNumber - 1;
  let offlineSeq = 0;
  let offlineSince: number | null = null;
  const online = () => {
    if (offlineSince !== null) deps.log.info({ breeder: breeder.name, slot, offlineMs: Date.now() - offlineSince }, 'the database answers again; writing the buffered trials');
    offlineSince = null;
  };
  const offline = (err: unknown) => {
    if (offlineSince === null) deps.log.warn({ breeder: breeder.name, slot, err: message(err) }, 'the database is away; trials go on in memory');
    offlineSince ??= Date.now();
  };
  /** Runs a write the slot cannot go on without (a status change), waiting through an outage; throws when the worker closes. */
  const whenOnline = async <T>(fn: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        await flush();
        if (buffer.size === 0) {
          const r = await fn();
          online();
          return r;
        }
      } catch (err) {
        if (!isTransient(err)) throw err;
        offline(err);
      }
      await sleepUnlessAborted(outage.retryMs, job.signal);
      if (job.signal.aborted) throw new Error('the worker is closing; the slot runs again elsewhere');
    }
  };
  /** Writes what the buffer holds (as far as the database lets it) and counts what it wrote. */
  const flush = async () => {
    if (buffer.size === 0) return;
    const written = await buffer.flush(store, ref);
    for (const w of written) {
      if (w.recorded) metrics.trials.inc({ breeder: breeder.name, state: w.trial.outcome.state });
      lastClaimed = Math.max(lastClaimed, w.number);
    }
    if (written.length) deps.log.info({ breeder: breeder.name, slot, written: written.map((w) => w.number), left: buffer.size }, 'wrote trials run while the database was away');
  };
  // A stop asked for while the database is away reaches the slot through the KV (a flag, looked at before each
  // trial), or, with NATS away too, directly from this process's API when it was asked here (stop-requests.ts).
  let stopAsked = false;
  let stopWatch: { stop(): Promise<void>; shared: boolean } | undefined;
  try {
    stopWatch = await deps.stops?.watch(ref, new Date(breeder.startedAt ?? 0), () => (stopAsked = true));
    if (stopWatch && !stopWatch.shared) deps.log.warn({ breeder: breeder.name, slot }, 'cannot watch the stop requests of other instances (NATS is away): until it answers, a stop reaches this slot through the database or this instance\'s API');
  } catch (err) {
    deps.log.warn({ breeder: breeder.name, slot, err: message(err) }, 'cannot watch for stop requests; a stop needs the database');
  }
  metrics.activeWorkers.inc({ breeder: breeder.name });
  let trials = 0;
  let failures = 0;
  try {
    for (;;) {
      if (job.signal.aborted) throw new Error('the worker is closing; the slot runs again elsewhere');
      if (stopAsked) {
        // No trial starts after the request; the buffered ones are written first (whenOnline), then the stop.
        deps.log.warn({ breeder: breeder.name, slot, buffered: buffer.size }, 'stop asked for while the database was away: no new trial; recording it when the database answers');
        await whenOnline(() => store.halt(breederId, generation, 'stopped by a user (asked while the database was away)'));
        await deps.stops!.clear(ref).catch((err) => deps.log.warn({ breeder: breeder.name, err: message(err) }, 'cannot clear the stop request'));
        return { trials, ended: 'stopped' };
      }
      // No read of the breeder per turn: the claim below only succeeds while it runs in this generation, so a stop
      // or a new start shows up as a refused claim (finishIfLast then reads why).
      if (maxDurationMs !== undefined && Date.now() - Date.parse(breeder.startedAt!) >= maxDurationMs) {
        await whenOnline(() => store.complete(breederId, generation, 'max_duration'));
        return { trials, ended: 'max_duration' };
      }
      let number: number | null;
      let claimedRows: TrialRow[] | null = null;
      try {
        await flush();
        if (offlineSince !== null && buffer.size === 0) {
          // A claim whose answer was lost as the database went away left a running row this slot never heard of;
          // nothing of this slot runs now, so any running row of it is that one (it would hold completion forever).
          const lost = await store.trials.abandon(ref, slot, `lost: claimed as the database went away on ${deps.instanceId}; the answer never arrived`);
          if (lost.length) metrics.trials.inc({ breeder: breeder.name, state: 'fail' }, lost.length);
        }
        // The claim brings the history read with it: one round trip.
        ({ number, rows: claimedRows } = await store.trials.claimAndRead(breederId, generation, def.run.max_trials, slot, deps.instanceId, own.from()));
        online();
        if (number === null) return { trials, ended: await whenOnline(() => finishIfLast(deps, breederId, generation)) };
        lastClaimed = number;
      } catch (err) {
        if (!isTransient(err)) throw err;
        offline(err);
        // Go on without a number while the buffer has room and, as far as this slot knows, trials are left.
        if (buffer.full || lastClaimed + 1 + buffer.unnumbered >= def.run.max_trials) {
          await sleepUnlessAborted(outage.retryMs, job.signal);
          continue;
        }
        number = null;
      }
      const t0 = performance.now();
      let history: readonly TrialRow[];
      let records: readonly TrialRecord[];
      ({ rows: history, records } = claimedRows ? own.apply(claimedRows) : own.cached());
      try {
        if (def.cooperation && number !== null) shared = await cooperatingHistory(store, def, breederId, members);
      } catch (err) {
        if (!isTransient(err)) throw err;
        offline(err);
      }
      const startedAt = new Date();
      const sampleNumber = number ?? OFFLINE_NUMBERS + slot * OFFLINE_PER_SLOT + offlineSeq++;
      let sampled: SampleResult;
      try {
        sampled = sampler.sample({ trials: withBuffered(shared, history, records, buffer), number: sampleNumber });
      } catch (err) {
        // A sampler that throws will throw again for the same history: retrying the job 20 times would only hide it.
        const why = `the sampler failed: ${message(err)}`;
        if (number !== null) await whenOnline(() => store.trials.finish(ref, number, {}, { state: 'fail', values: null, observations: null, constraints: null, error: why, durations: {} }));
        return { trials, ended: await whenOnline(() => failBreeder(deps, ref, generation, why)) };
      }
      metrics.phase.observe({ phase: 'sample' }, (performance.now() - t0) / 1000);
      if (sampled.kind === 'exhausted') {
        if (number !== null && (await whenOnline(() => store.trials.finish(ref, number, {}, { state: 'pruned', values: null, observations: null, constraints: null, error: 'the sampler has nothing new to try', durations: {} })))) {
          metrics.trials.inc({ breeder: breeder.name, state: 'pruned' });
        }
        await whenOnline(() => store.complete(breederId, generation, 'exhausted'));
        return { trials, ended: 'exhausted' };
      }
      const params: Params = sampled.params;
      // Written before effectuation, even with one slot: if this worker dies mid-trial, the abandoned trial keeps the
      // parameters that were being applied, so the samplers learn from them (a parameter set that kills the target).
      if (number !== null) {
        try {
          await store.trials.setParams(breederId, number, params);
        } catch (err) {
          // Only for whoever looks at running trials meanwhile: the end writes the parameters again.
          if (!isTransient(err)) throw err;
          offline(err);
        }
      }
      const outcome = await runTrial(def, params, { number: number ?? -1, breeder: ref }, deps.policy, job.signal);
      for (const [phase, ms] of Object.entries(outcome.durations)) metrics.phase.observe({ phase }, ms / 1000);
      trials++;
      let recorded = false;
      if (number === null) {
        buffer.addUnnumbered({ params, outcome, slot, generation, worker: deps.instanceId, startedAt, finishedAt: new Date() });
      } else {
        try {
          recorded = await store.trials.finish(ref, number, params, outcome);
          if (!recorded) continue;
        } catch (err) {
          if (!isTransient(err)) throw err;
          offline(err);
          buffer.addNumbered(number, params, outcome);
        }
      }
      if (recorded) metrics.trials.inc({ breeder: breeder.name, state: outcome.state });
      // The row holds the error for the API; the log line is for whoever watches the instance (a failing evaluator
      // or target otherwise shows up only as a slowly growing fail count).
      if (outcome.error) deps.log.warn({ breeder: breeder.name, trial: number, state: outcome.state, error: outcome.error }, outcome.state === 'fail' ? 'trial failed' : 'trial finished with a problem');
      failures = outcome.state === 'fail' ? failures + 1 : 0;
      if (def.rollback && failures >= def.rollback.after_consecutive_failures) {
        failures = 0;
        const ended = await applyRollback(deps, def, ref, generation, job.signal, whenOnline);
        if (ended) return { trials, ended };
      }
      if (outcome.state === 'complete') {
        if (def.objectives.length === 1) updateBest(deps, def, breeder.name, [...history.filter((h) => h.number !== number).map(toRecord), ...buffer.records(), { params, values: outcome.values as number[], state: 'complete', constraints: outcome.constraints }]);
        if (def.run.stop_when_quality_achieved && qualityAchieved(def, outcome.values)) {
          await whenOnline(() => store.complete(breederId, generation, 'quality'));
          return { trials, ended: 'quality' };
        }
      }
    }
  } finally {
    await stopWatch?.stop().catch(() => {});
    metrics.activeWorkers.dec({ breeder: breeder.name });
    if (buffer.size) {
      // Only when the worker closes mid-outage (the job runs again elsewhere, without this memory).
      metrics.buffered.dec({ breeder: breeder.name }, buffer.size);
      deps.log.error({ breeder: breeder.name, slot, lost: buffer.size }, 'the worker closed while the database was away; its buffered trials are lost');
    }
  }
}

/** The sampler's history: shared trials, the stored ones (without those whose end waits in the buffer) and the buffered ones. */
function withBuffered(shared: readonly TrialRecord[], rows: readonly TrialRow[], records: readonly TrialRecord[], buffer: TrialBuffer): readonly TrialRecord[] {
  if (buffer.size === 0) return shared.length ? [...shared, ...records] : records;
  const pending = buffer.numbers();
  return [...shared, ...records.filter((_, i) => !pending.has(rows[i]!.number)), ...buffer.records()];
}

/** Marks the breeder failed with the reason (status and event); returns how the slot ends. */
async function failBreeder(deps: LoopDeps, ref: { id: string; name: string }, generation: number, reason: string): Promise<string> {
  deps.log.error({ breeder: ref.name, reason }, 'the breeder failed');
  await deps.store.fail(ref.id, generation, reason);
  return 'failed';
}

/** Rolls the target back; returns how the slot ends (`stopped`) or null to continue. A failed rollback stops the breeder. */
async function applyRollback(deps: LoopDeps, def: Definition, ref: { id: string; name: string }, generation: number, signal: AbortSignal, whenOnline: <T>(fn: () => Promise<T>) => Promise<T>): Promise<string | null> {
  const rb = def.rollback!;
  const history = await whenOnline(() => deps.store.trials.all(ref.id));
  let why: string;
  try {
    const params = await rollBack(def, history, ref, deps.policy, signal);
    why = params ? `rolled back to ${rb.to} ${JSON.stringify(params)} after ${rb.after_consecutive_failures} consecutive failures` : `no ${rb.to} trial to roll back to after ${rb.after_consecutive_failures} consecutive failures`;
  } catch (err) {
    signal.throwIfAborted();
    await whenOnline(() => deps.store.halt(ref.id, generation, `rollback failed: ${(err as Error).message}`));
    return 'stopped';
  }
  deps.log.warn({ breeder: ref.name, then: rb.then }, why);
  if (rb.then === 'continue') return null;
  await whenOnline(() => deps.store.halt(ref.id, generation, `${rb.then === 'pause' ? 'paused' : 'stopped'}: ${why}`));
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
