/** Runs started or called back from outside: connectors (a bus subject or a webhook) and cron schedules. */
import { Conflict, sleep, type EventBus, type Kv, type Logger } from '../../kernel/index.ts';
import type { ConnectorAction, ConnectorSpec, ScheduleSpec, WorkflowSpec } from './builder.ts';
import { nextFire, parseCron } from './cron.ts';
import { untilAborted } from './role.ts';

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
export async function runConnector(bus: EventBus, spec: WorkflowSpec, c: ConnectorSpec, target: TriggerTarget, signal: AbortSignal): Promise<void> {
  const sub = await bus.durable({ name: `wf-${spec.name}-connector-${c.name}`.replace(/[^A-Za-z0-9_-]/g, '_'), pattern: c.source, start: 'new' }, async (e) => {
    await applyConnectorAction(target, spec.name, await c.fn({ type: e.type, data: e.data, id: e.id }));
  });
  try {
    await untilAborted(signal);
  } finally {
    await sub.unsubscribe();
  }
}

/**
 * Fires the schedules of every workflow while `signal` is live (the scheduler role is held). Each slot is claimed
 * with a create-only KV write, so a slot fires once even if the role moves to another instance mid-slot.
 */
export async function runScheduler(specs: () => WorkflowSpec[], slots: Kv, target: TriggerTarget, log: Logger, signal: AbortSignal): Promise<void> {
  let after = new Date();
  while (!signal.aborted) {
    const due: { spec: WorkflowSpec; s: ScheduleSpec; at: Date }[] = [];
    let soonest = Infinity;
    for (const spec of specs()) {
      for (const s of spec.schedules) {
        const at = nextFire(parseCron(s.cron), after);
        soonest = Math.min(soonest, at.getTime());
        due.push({ spec, s, at });
      }
    }
    if (due.length === 0) {
      await Promise.race([sleep(1_000), untilAborted(signal)]);
      after = new Date();
      continue;
    }
    await Promise.race([sleep(Math.max(0, soonest - Date.now())), untilAborted(signal)]);
    if (signal.aborted) return;
    for (const { spec, s, at } of due) {
      if (at.getTime() !== soonest) continue;
      try {
        await slots.create(`${spec.name}.${s.name}.${at.getTime()}`, { at: at.toISOString() });
      } catch (err) {
        if (err instanceof Conflict) continue; // another holder fired this slot
        throw err;
      }
      await applyConnectorAction(target, spec.name, { trigger: { foreignId: s.foreignId, object: s.object } }).catch((err) => log.warn({ err, schedule: s.name }, 'scheduled trigger failed'));
    }
    after = new Date(soonest);
  }
}
