/**
 * Cascade triggers, run by one instance at a time (the `cascades-triggers` role), the way workflow schedules are:
 * cron slots on the kernel clock and bus events through durable consumers. Each firing is claimed with a create-only
 * KV write whose key names the slot or the event, so it starts one session across instances even when the role moves
 * mid-slot or an event is delivered twice; the session id is derived from the same key, so a holder that died between
 * the claim and the start is finished by the next one (the second insert of that id is refused by the database).
 */
import { createHash } from 'node:crypto';
import {
  boundedName,
  Conflict,
  evaluateCondition,
  interpolate,
  Invalid,
  MAX_DURABLE_NAME,
  parseCondition,
  parseSchedule,
  type Clock,
  type EventBus,
  type EventEnvelope,
  type Kv,
  type KvStore,
  type RoleHandle,
  type Roles,
  type Logger,
  type Subscription,
} from '../../../kernel/index.ts';
import type { CascadeDefinition } from '../model/definition.ts';
import { checkDefinition } from '../model/parse-definition.ts';
import type { CronTrigger, EventTrigger } from '../model/triggers.ts';
import type { CascadeStore } from '../store/index.ts';
import { latestSlot } from './missed-slot.ts';

/** What firing a trigger does: start a session of `spec` with `inputs` under `id`. */
export type StartSession = (spec: CascadeDefinition, inputs: Record<string, unknown>, id: string) => Promise<unknown>;

/** What the trigger loop needs. */
export interface TriggerDeps {
  store: CascadeStore;
  bus: EventBus;
  /** The bucket of claimed firings (slots and events). */
  claims: Kv;
  start: StartSession;
  log: Logger;
  clock: Clock;
}

/** The loop looks at the saved definitions again at least this often (new triggers, changed schedules). */
const RECHECK_MS = 1_000;

interface CronEntry {
  spec: CascadeDefinition;
  index: number;
  trigger: CronTrigger;
}

interface EventEntry {
  spec: CascadeDefinition;
  index: number;
  trigger: EventTrigger;
  /** When this version of the definition was saved: older events never fire it. */
  savedAt: number;
}

/** The durable consumer of one event pattern: one per pattern, shared by every cascade that listens to it. */
export function triggerDurableName(pattern: string): string {
  return boundedName(`cascades-trigger-${pattern}`, MAX_DURABLE_NAME);
}

/** A UUID-shaped session id from a firing's claim key, with the firing's time in front so ids still sort by time. */
export function firingSessionId(claimKey: string, atMs: number): string {
  const ts = Math.max(0, Math.floor(atMs)).toString(16).padStart(12, '0').slice(-12);
  const h = createHash('sha256').update(claimKey).digest('hex');
  return `${ts.slice(0, 8)}-${ts.slice(8, 12)}-7${h.slice(0, 3)}-${'89ab'[parseInt(h[3]!, 16) % 4]}${h.slice(4, 7)}-${h.slice(7, 19)}`;
}

/** The KV key of one firing: one token per name, so names with dots cannot collide. */
function claimKey(cascadeId: string, index: number, kind: string, what: string): string {
  return `${boundedName(cascadeId, 64)}.${index}.${kind}.${boundedName(what, 64)}`;
}

/**
 * Claims the firing `key` and starts its session; false when it had been fired already. A claim found taken is
 * finished (its session started) in case its holder died in between: the derived id makes that start a no-op otherwise.
 */
async function fireOnce(d: TriggerDeps, key: string, atMs: number, spec: CascadeDefinition, inputs: Record<string, unknown>): Promise<boolean> {
  const id = firingSessionId(key, atMs);
  let claimed = true;
  try {
    await d.claims.create(key, { sessionId: id, at: new Date(atMs).toISOString() });
  } catch (err) {
    if (!(err instanceof Conflict)) throw err;
    claimed = false;
  }
  try {
    await d.start(spec, inputs, id);
  } catch (err) {
    // Already started (by us on an earlier delivery, or by the claim's holder): the firing is done.
    if (await d.store.getSession(id).then(() => true, () => false)) return false;
    throw err;
  }
  return claimed;
}

/** Saved definitions with triggers, checked (a stored definition that no longer passes is skipped and logged). */
async function loadTriggers(d: TriggerDeps): Promise<{ crons: CronEntry[]; events: EventEntry[] }> {
  const crons: CronEntry[] = [];
  const events: EventEntry[] = [];
  for (const stored of await d.store.definitionsWithTriggers()) {
    if (!Array.isArray((stored.spec as { triggers?: unknown }).triggers) || stored.spec.triggers.length === 0) continue;
    let spec: CascadeDefinition;
    try {
      spec = checkDefinition(stored.spec);
    } catch (err) {
      d.log.warn({ cascade: stored.cascadeId, err }, 'saved cascade no longer passes the definition check; its triggers are off');
      continue;
    }
    spec.triggers.forEach((t, index) => {
      if ('cron' in t) crons.push({ spec, index, trigger: t });
      else events.push({ spec, index, trigger: t, savedAt: Date.parse(stored.updatedAt) });
    });
  }
  return { crons, events };
}

/** The claims-bucket key holding how far a schedule got (its last fired slot), so a new role holder carries on. */
function cursorKey(cascadeId: string, index: number, scheduleKey: string): string {
  return `${boundedName(cascadeId, 64)}.${index}.cursor.${createHash('sha256').update(scheduleKey).digest('hex').slice(0, 8)}`;
}

/**
 * Where a schedule this loop has not seen yet starts: after the cursor a previous holder saved, so that the latest
 * slot missed in between fires now (`missed: latest`); from now for a new schedule (slots before it was saved never
 * fire) or with `missed: skip`. A new schedule's cursor is saved at once, so a holder that dies before the first slot
 * does not lose it.
 */
async function startCursor(d: TriggerDeps, c: CronEntry, scheduleKey: string, now: number): Promise<number> {
  const key = cursorKey(c.spec.cascade_id, c.index, scheduleKey);
  const saved = await d.claims.get<{ at: number }>(key);
  if (!saved) {
    await d.claims.create(key, { at: now }).catch((err: unknown) => {
      if (!(err instanceof Conflict)) throw err;
    });
    return now;
  }
  if (c.trigger.missed === 'skip') return now;
  const latest = latestSlot(parseSchedule(c.trigger.cron, { timezone: c.trigger.timezone }), saved.value.at, now);
  if (latest === undefined) return Math.min(saved.value.at, now);
  d.log.info({ cascade: c.spec.cascade_id, trigger: c.index, slot: new Date(latest).toISOString(), since: new Date(saved.value.at).toISOString() }, 'firing the latest slot missed while no instance ran this schedule');
  // One millisecond before it, so that it is the next slot and is due.
  return latest - 1;
}

/** Inputs of a firing: the trigger's templates over `scope` (`trigger` for a schedule, `event` for an event). */
function inputsOf(t: CronTrigger | EventTrigger, scope: Record<string, unknown>): Record<string, unknown> {
  return interpolate(t.inputs, scope) as Record<string, unknown>;
}

/** Handles one event for every cascade listening to its pattern. */
async function onEvent(d: TriggerDeps, listeners: () => EventEntry[], pattern: string, e: EventEnvelope): Promise<void> {
  const event = { id: e.id, type: e.type, time: e.time, source: e.source, data: e.data };
  for (const l of listeners()) {
    // A durable's cursor may predate this version of the definition (an earlier listener of the pattern).
    if (l.trigger.event !== pattern || Date.parse(e.time) < l.savedAt) continue;
    try {
      if (l.trigger.filter !== undefined && !evaluateCondition(parseCondition(l.trigger.filter, { roots: ['event'] }), { event })) continue;
      const inputs = inputsOf(l.trigger, { event });
      await fireOnce(d, claimKey(l.spec.cascade_id, l.index, 'e', e.id), Date.parse(e.time) || d.clock.now(), l.spec, inputs);
    } catch (err) {
      // Inputs the cascade refuses can never start it: skipping beats redelivering the event forever.
      if (err instanceof Invalid) d.log.warn({ cascade: l.spec.cascade_id, trigger: l.index, eventId: e.id, issues: err.issues }, 'event trigger skipped: its inputs were refused');
      else throw err;
    }
  }
}

/** Runs the triggers of every saved cascade while `signal` is live (the role is held). */
export async function runTriggers(d: TriggerDeps, signal: AbortSignal): Promise<void> {
  // The last slot considered per schedule; a schedule seen for the first time starts from now, so one saved later
  // never fires slots that passed before it existed. The cron and zone are in the key: a changed one starts afresh.
  const cursors = new Map<string, number>();
  const durables = new Map<string, Subscription>();
  // The next slot per schedule, computed once per cursor: the loop wakes every second and cron parsing is not free.
  const memo = new Map<string, { from: number; at: number }>();
  const nextSlot = (key: string, t: CronTrigger, from: number): number => {
    const m = memo.get(key);
    if (m && m.from === from) return m.at;
    const at = parseSchedule(t.cron, { timezone: t.timezone }).next(new Date(from)).getTime();
    memo.set(key, { from, at });
    return at;
  };
  let listeners: EventEntry[] = [];
  try {
    while (!signal.aborted) {
      const { crons, events } = await loadTriggers(d);
      listeners = events;
      const patterns = new Map<string, number>();
      for (const e of events) patterns.set(e.trigger.event, Math.min(patterns.get(e.trigger.event) ?? Infinity, e.savedAt));
      for (const [p, sub] of durables) {
        if (patterns.has(p)) continue;
        durables.delete(p);
        await sub.unsubscribe();
      }
      for (const [p, since] of patterns) {
        if (durables.has(p)) continue;
        // A new durable starts where the oldest listener was saved, so an event published between the save and this
        // subscription still fires it (`new` would miss it).
        durables.set(p, await d.bus.durable({ name: triggerDurableName(p), pattern: p, start: { time: new Date(since) } }, (e) => onEvent(d, () => listeners, p, e)));
      }
      const now = d.clock.now();
      const due = [];
      for (const c of crons) {
        const key = JSON.stringify([c.spec.cascade_id, c.index, c.trigger.cron, c.trigger.timezone]);
        if (!cursors.has(key)) cursors.set(key, await startCursor(d, c, key, now));
        due.push({ ...c, key, at: nextSlot(key, c.trigger, cursors.get(key)!) });
      }
      const live = new Set(due.map((c) => c.key));
      for (const k of cursors.keys()) if (!live.has(k)) cursors.delete(k);
      for (const k of memo.keys()) if (!live.has(k)) memo.delete(k);
      const wait = Math.min(RECHECK_MS, ...due.map((c) => c.at - d.clock.now()));
      if (wait > 0) await d.clock.sleep(wait, signal);
      if (signal.aborted) return;
      for (const c of due) {
        if (c.at > d.clock.now()) continue;
        const key = claimKey(c.spec.cascade_id, c.index, `c${createHash('sha256').update(c.key).digest('hex').slice(0, 8)}`, String(c.at));
        try {
          await fireOnce(d, key, c.at, c.spec, inputsOf(c.trigger, { trigger: { at: new Date(c.at).toISOString(), cron: c.trigger.cron, timezone: c.trigger.timezone } }));
        } catch (err) {
          // A transient failure keeps the cursor, so the slot is tried again next pass; refused inputs never pass.
          const refused = err instanceof Invalid;
          d.log.warn({ err, cascade: c.spec.cascade_id, trigger: c.index, at: new Date(c.at).toISOString() }, refused ? 'scheduled cascade trigger skipped: its inputs were refused' : 'scheduled cascade trigger failed; retrying');
          if (!refused) continue;
        }
        cursors.set(c.key, c.at);
        // Best effort: with the write lost, the next holder looks at this slot again and its claim stops a second
        // session.
        await d.claims.put(cursorKey(c.spec.cascade_id, c.index, c.key), { at: c.at }).catch((err: unknown) => d.log.warn({ err, cascade: c.spec.cascade_id }, 'schedule cursor not saved'));
      }
    }
  } finally {
    await Promise.all([...durables.values()].map((s) => s.unsubscribe().catch(() => undefined)));
  }
}

/** Holds the `cascades-triggers` role on this instance and runs the triggers while it is held. */
export class CascadeTriggers {
  private role: RoleHandle | undefined;

  constructor(private readonly d: Omit<TriggerDeps, 'claims'> & { kv: KvStore; roles: Roles; roleTtlMs: number }) {}

  /** Opens the claims bucket and contends for the role. */
  async start(): Promise<void> {
    // Claims outlive any redelivery or role handover by far; a week keeps the bucket small.
    const claims = await this.d.kv.bucket('cascades-trigger-claims', { ttlMs: 7 * 86_400_000 });
    this.role = this.d.roles.holdRole('cascades-triggers', { ttlMs: this.d.roleTtlMs }, (signal) => runTriggers({ ...this.d, claims }, signal));
  }

  /** Gives the role up (its durables stop; their unacknowledged events go to the next holder). */
  async stop(): Promise<void> {
    await this.role?.stop();
  }
}
