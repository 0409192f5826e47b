/** Runs started or called back from outside: connectors (a bus subject or a webhook) and cron schedules. */
import { Conflict, Invalid, NotFound, parseSchedule, realClock, untilAborted, type Clock, type EventBus, type Kv, type Logger, type Subscription } from '../../../kernel/index.ts';
import type { ConnectorAction, ConnectorSpec, ScheduleSpec, WorkflowSpec } from '../model/builder.ts';
import { connectorDurableName, scheduleSlotKey } from './names.ts';

/** What triggers need from the engine. */
export interface TriggerTarget {
  trigger(workflow: string, foreignId: string, object?: unknown): Promise<unknown>;
  callbackByForeignId(workflow: string, foreignId: string, status: string, body: { status?: string; object?: unknown }): Promise<unknown>;
}

/** Applies what a connector asked for; an already active run (trigger) or a run elsewhere (callback) is not an error. */
export async function applyConnectorAction(target: TriggerTarget, workflow: string, action: ConnectorAction | undefined): Promise<'done' | 'skipped'> {
  if (!action) return 'skipped';
  try {
    if ('trigger' in action) await target.trigger(workflow, action.trigger.foreignId, action.trigger.object);
    else await target.callbackByForeignId(workflow, action.callback.foreignId, action.callback.status, action.callback.body);
    return 'done';
  } catch (err) {
    if (err instanceof Conflict) return 'skipped';
    throw err;
  }
}

/** Consumes a connector's subject durably while `signal` is live (the connector role is held). */
export async function runConnector(bus: EventBus, spec: WorkflowSpec, c: ConnectorSpec & { source: string }, target: TriggerTarget, signal: AbortSignal, log?: Logger): Promise<void> {
  const handler = async (e: { type: string; data: unknown; id: string }) => {
    try {
      await applyConnectorAction(target, spec.name, await c.fn({ type: e.type, data: e.data, id: e.id }));
    } catch (err) {
      // A callback for a foreign id that has no run, or event data that cannot be stored, can never succeed;
      // redelivering it would loop forever.
      if (err instanceof Invalid) log?.warn({ workflow: spec.name, connector: c.name, eventId: e.id, issues: err.issues }, 'connector skipped an event it cannot use');
      else if (!(err instanceof NotFound)) throw err;
    }
  };
  let sub: Subscription;
  try {
    sub = await bus.durable({ name: connectorDurableName(spec.name, c.name), pattern: c.source, start: 'new' }, handler);
  } catch (err) {
    if (!(err instanceof Conflict)) throw err;
    // The durable exists with another subject (a re-applied definition changed it): one durable per subject instead.
    sub = await bus.durable({ name: connectorDurableName(spec.name, c.name, c.source), pattern: c.source, start: 'new' }, handler);
  }
  try {
    await untilAborted(signal);
  } finally {
    await sub.unsubscribe();
  }
}

/** The scheduler looks at the registered schedules again at least this often while it waits for a slot. */
const RECHECK_MS = 1_000;

/**
 * Fires the schedules of every workflow while `signal` is live (the scheduler role is held). Each slot is claimed
 * with a create-only KV write, so a slot fires once even if the role moves to another instance mid-slot.
 */
export async function runScheduler(specs: () => WorkflowSpec[], slots: Kv, target: TriggerTarget, log: Logger, signal: AbortSignal, clock: Clock = realClock): Promise<void> {
  // The last slot considered per schedule. A schedule seen for the first time starts from now, so one applied later
  // never fires slots that passed before it existed; the cron and zone are part of the key, so a changed one starts afresh.
  const cursors = new Map<string, number>();
  // The next slot after each cursor, computed once per cursor: the loop wakes every second, and the cron library
  // (which parses on every step) would otherwise be most of the scheduler's CPU.
  const nextSlot = new Map<string, { from: number; at: Date }>();
  while (!signal.aborted) {
    const now = clock.now();
    const due: { spec: WorkflowSpec; s: ScheduleSpec; key: string; at: Date }[] = [];
    for (const spec of specs()) {
      for (const s of spec.schedules) {
        const key = JSON.stringify([spec.name, s.name, s.cron, s.timezone ?? 'UTC']);
        const from = cursors.get(key) ?? now;
        due.push({ spec, s, key, at: slotAfter(nextSlot, key, s, from) });
      }
    }
    const live = new Set(due.map((d) => d.key));
    for (const key of cursors.keys()) if (!live.has(key)) cursors.delete(key);
    for (const key of nextSlot.keys()) if (!live.has(key)) nextSlot.delete(key);
    for (const d of due) if (!cursors.has(d.key)) cursors.set(d.key, now);
    // Wake up at the soonest slot, or sooner, so that schedules applied meanwhile are not kept waiting.
    const soonest = Math.min(...due.map((d) => d.at.getTime()));
    const wait = Math.min(soonest - clock.now(), RECHECK_MS);
    if (wait > 0) await clock.sleep(wait, signal);
    if (signal.aborted) return;
    for (const { spec, s, key, at } of due) {
      if (at.getTime() > clock.now()) continue;
      cursors.set(key, at.getTime());
      try {
        await slots.create(scheduleSlotKey(spec.name, s.name, at), { at: at.toISOString() });
      } catch (err) {
        if (err instanceof Conflict) continue; // another holder fired this slot
        throw err;
      }
      await fireSlot(target, spec.name, s, at).catch((err) => log.warn({ err, schedule: s.name }, 'scheduled trigger failed'));
    }
  }
}

/** The first slot of `s` after `from`, remembered under `key` until the cursor moves. */
function slotAfter(memo: Map<string, { from: number; at: Date }>, key: string, s: ScheduleSpec, from: number): Date {
  const m = memo.get(key);
  if (m && m.from === from) return m.at;
  const at = parseSchedule(s.cron, { timezone: s.timezone }).next(new Date(from));
  memo.set(key, { from, at });
  return at;
}

/** Starts the run of one slot; a rendering schedule picks its foreign id and object from the slot's time. */
async function fireSlot(target: TriggerTarget, workflow: string, s: ScheduleSpec, at: Date): Promise<void> {
  const run = s.render ? s.render(at) : { foreignId: s.foreignId, object: s.object };
  await applyConnectorAction(target, workflow, { trigger: run });
}
