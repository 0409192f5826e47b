/**
 * Cascade triggers on a fake clock, over real PostgreSQL with the memory bus and KV: a weekday cron in Europe/Berlin
 * fires at 09:00 local time and not on the weekend, two trigger loops (a role handover) start one session per slot,
 * and a bus event that passes the filter starts one session with inputs from the event, even when delivered twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../../src/kernel/bus/memory-bus.ts';
import type { Database } from '../../../src/kernel/db/port.ts';
import { createPostgresDatabase } from '../../../src/kernel/db/postgres-database.ts';
import { Invalid } from '../../../src/kernel/index.ts';
import { MemoryKvStore } from '../../../src/kernel/kv/memory-kv.ts';
import { createLogger } from '../../../src/kernel/log.ts';
import { MemoryQueue } from '../../../src/kernel/queue/memory-queue.ts';
import { checkDefinition } from '../../../src/modules/cascades/model/parse-definition.ts';
import { NO_METRICS } from '../../../src/modules/cascades/runtime/metrics.ts';
import { runTriggers, type TriggerDeps } from '../../../src/modules/cascades/runtime/triggers.ts';
import { CascadeService } from '../../../src/modules/cascades/service.ts';
import { CascadeStore } from '../../../src/modules/cascades/store/index.ts';
import { PG_URL, uniqueName } from '../../helpers/env.ts';
import { ALL_MODULE_MIGRATIONS } from '../../helpers/module-migrations.ts';
import { eventually, FakeClock } from '../../kit/index.ts';

let db: Database;
let store: CascadeStore;
let service: CascadeService;
const schema = uniqueName('casct').toLowerCase();
const queue = new MemoryQueue();
const bus = new MemoryBus({ source: 'test' });
const kv = new MemoryKvStore();

beforeAll(async () => {
  db = await createPostgresDatabase({ url: PG_URL, schema });
  await db.migrate(ALL_MODULE_MIGRATIONS);
  store = new CascadeStore(db);
  service = new CascadeService(store, queue, NO_METRICS);
}, 180_000);
afterAll(async () => {
  await queue.close();
  await bus.close();
  await kv.close();
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.close();
});

/** Starts a trigger loop (as a role holder would) on `clock`; returns its stop. */
async function loop(clock: FakeClock, bucket: string): Promise<() => Promise<void>> {
  const claims = await kv.bucket(bucket);
  const d: TriggerDeps = { store, bus, claims, log: createLogger({ level: 'silent' }), clock, start: (spec, inputs, id) => service.run(spec, inputs, id) };
  const ac = new AbortController();
  const done = runTriggers(d, ac.signal);
  return async () => {
    ac.abort();
    await done;
  };
}

async function sessionsOf(cascade: string) {
  return (await store.listSessions({ cascade })).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

// A human phase only: sessions park at once and need no LLM.
const phases = [{ name: 'wait', human_input: { prompt: 'Seen?' } }];

describe('cascade triggers', () => {
  it('a weekday cron in Europe/Berlin fires at 09:00 local once per slot, not on the weekend, even with two loops running', async () => {
    await store.putDefinition(
      checkDefinition({
        cascade_id: 'morning',
        inputs_schema: { at: { type: 'string' } },
        phases,
        triggers: [{ cron: '0 9 * * MON-FRI', timezone: 'Europe/Berlin', inputs: { at: '{{ trigger.at }}' } }],
      }),
    );
    // Friday 4 December 2026, 08:59 in Berlin (UTC+1 in winter).
    const clock = new FakeClock({ start: Date.parse('2026-12-04T07:59:00Z') });
    const stops = [await loop(clock, 'claims-cron'), await loop(clock, 'claims-cron')];
    try {
      await clock.advance(30_000);
      expect(await sessionsOf('morning')).toHaveLength(0);
      await clock.advanceTo(Date.parse('2026-12-04T08:00:01Z'));
      await eventually(async () => (await sessionsOf('morning')).length === 1);
      // Saturday and Sunday pass: nothing; Monday 09:00 Berlin fires the next one.
      await clock.advanceTo(Date.parse('2026-12-06T12:00:00Z'));
      await clock.advanceTo(Date.parse('2026-12-07T08:00:01Z'));
      await eventually(async () => (await sessionsOf('morning')).length === 2);
      await clock.advance(5_000);
      const sessions = await sessionsOf('morning');
      expect(sessions.map((s) => s.inputs.at)).toEqual(['2026-12-04T08:00:00.000Z', '2026-12-07T08:00:00.000Z']);
    } finally {
      for (const stop of stops) await stop();
    }
  });

  it('slots missed while no loop ran: the latest fires once when a loop runs again (missed: latest), none with missed: skip', async () => {
    for (const [id, missed] of [['hourly-latest', undefined], ['hourly-skip', 'skip']] as const) {
      await store.putDefinition(checkDefinition({ cascade_id: id, inputs_schema: { at: { type: 'string' } }, phases, triggers: [{ cron: '0 * * * *', missed, inputs: { at: '{{ trigger.at }}' } }] }));
    }
    const ats = async (id: string) => (await sessionsOf(id)).map((s) => s.inputs.at);
    const clock = new FakeClock({ start: Date.parse('2026-12-04T10:30:00Z') });
    const first = await loop(clock, 'claims-missed');
    try {
      await eventually(() => clock.pending() === 1);
      await clock.advanceTo(Date.parse('2026-12-04T11:00:01Z'));
      await eventually(async () => (await ats('hourly-latest')).length === 1 && (await ats('hourly-skip')).length === 1);
    } finally {
      await first();
    }
    // No loop runs through the 12:00, 13:00 and 14:00 slots (every instance down, or the role between holders).
    await clock.advanceTo(Date.parse('2026-12-04T14:30:00Z'));
    const second = await loop(clock, 'claims-missed');
    try {
      await eventually(async () => (await ats('hourly-latest')).length === 2);
      await eventually(() => clock.pending() === 1);
      await clock.advanceTo(Date.parse('2026-12-04T15:00:01Z'));
      await eventually(async () => (await ats('hourly-latest')).length === 3 && (await ats('hourly-skip')).length === 2);
      await clock.advance(5_000);
      expect(await ats('hourly-latest')).toEqual(['2026-12-04T11:00:00.000Z', '2026-12-04T14:00:00.000Z', '2026-12-04T15:00:00.000Z']);
      expect(await ats('hourly-skip')).toEqual(['2026-12-04T11:00:00.000Z', '2026-12-04T15:00:00.000Z']);
    } finally {
      await second();
    }
  });

  it('an event that passes the filter starts one session with inputs from the event, however often it is delivered', async () => {
    await store.putDefinition(
      checkDefinition({
        cascade_id: 'follow-up',
        inputs_schema: { run: { type: 'string' } },
        phases,
        triggers: [{ event: 'test.run.completed', filter: "event.data.status == 'ok'", inputs: { run: '{{ event.data.runId }}' } }],
      }),
    );
    const clock = new FakeClock();
    const stops = [await loop(clock, 'claims-event'), await loop(clock, 'claims-event')];
    try {
      // Each loop sleeps on the clock once it has loaded the definitions and subscribed (durable, start: new).
      await eventually(() => clock.pending() === 2);
      await bus.publish('test.run.completed', { runId: 'r-failed', status: 'failed' });
      const ok = await bus.publish('test.run.completed', { runId: 'r1', status: 'ok' });
      // The same event again (a redelivery): still one session.
      await bus.publish('test.run.completed', ok.data, { id: ok.id });
      await eventually(async () => (await sessionsOf('follow-up')).length >= 1);
      await clock.advance(2_000);
      const sessions = await sessionsOf('follow-up');
      expect(sessions.map((s) => s.inputs)).toEqual([{ run: 'r1' }]);
    } finally {
      for (const stop of stops) await stop();
    }
  });

  it('refuses bad triggers naming the field', () => {
    const pathsOf = (triggers: unknown[]) => {
      try {
        checkDefinition({ cascade_id: 'x', phases, triggers });
      } catch (err) {
        if (err instanceof Invalid) return err.issues.map((i) => i.path);
        throw err;
      }
      return [];
    };
    expect(pathsOf([{ cron: '0 9 * * MON-FRI', timezone: 'Mars/Olympus' }])).toEqual(['triggers.0.timezone']);
    expect(pathsOf([{ cron: '0 25 * * *' }])).toEqual(['triggers.0.cron']);
    expect(pathsOf([{ cron: '0 9 * * *', missed: 'all' }])).toEqual(['triggers.0.missed']);
    expect(pathsOf([{ event: 'a..b' }])).toEqual(['triggers.0.event']);
    expect(pathsOf([{ event: 'a.b', filter: 'event.data.x ==' }])).toEqual(['triggers.0.filter']);
    expect(pathsOf([{ event: 'a.b', inputs: { x: '{{ nope.y }}' } }])).toEqual(['triggers.0.inputs.x']);
  });
});
