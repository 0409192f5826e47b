/**
 * Question timeouts on the kernel clock, on real PostgreSQL with a fake clock: a human checkpoint or an `ask_human`
 * question that nobody answers is closed by the sweeper once the fake clock passes its deadline (not a moment before),
 * exactly once however many sweepers look, and the session then goes on, fails, or goes on with the default answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/kernel/clock/fake-clock.ts';
import type { Database } from '../../../src/kernel/db/port.ts';
import { newId } from '../../../src/kernel/ids.ts';
import { createLogger } from '../../../src/kernel/log.ts';
import { MemoryQueue } from '../../../src/kernel/queue/memory-queue.ts';
import { MemoryBus } from '../../../src/kernel/bus/memory-bus.ts';
import { Invalid, type Roles } from '../../../src/kernel/index.ts';
import { cascadesConfigSchema } from '../../../src/modules/cascades/config.ts';
import { checkDefinition } from '../../../src/modules/cascades/model/parse-definition.ts';
import { NO_METRICS } from '../../../src/modules/cascades/runtime/metrics.ts';
import { SESSION_QUEUE } from '../../../src/modules/cascades/runtime/queue.ts';
import { sweepOnce } from '../../../src/modules/cascades/runtime/sweeper.ts';
import { CascadeWorker } from '../../../src/modules/cascades/runtime/worker.ts';
import { ChildRunner } from '../../../src/modules/cascades/runtime/children.ts';
import { CascadeStore, ChildSessionStore, SessionDataStore } from '../../../src/modules/cascades/store/index.ts';
import { fakeLlmForFile, fakeProvider, testClient } from '../../contract/llm-fake.ts';
import { databaseForFile } from '../../helpers/database-for-file.ts';

const HOUR = 3_600_000;
const fake = fakeLlmForFile();
const fx = databaseForFile('cascq');
let db: Database;
let store: CascadeStore;
const config = cascadesConfigSchema.parse({});
const queue = new MemoryQueue();
const bus = new MemoryBus({ source: 'test' });

beforeAll(() => {
  db = fx.db;
  store = new CascadeStore(db);
});
afterAll(async () => {
  await queue.close();
  await bus.close();
});

/** A worker on `clock` (never started: the test runs sessions and sweeps itself, so nothing moves behind its back). */
function workerOn(clock: FakeClock): CascadeWorker {
  const { llm } = testClient({ providers: { fake: fakeProvider(fake) } });
  const log = createLogger({ level: 'silent' });
  return new CascadeWorker({ store, queue, bus, llm, roles: undefined as unknown as Roles, log, owner: 'w1', config, metrics: NO_METRICS, clock, data: new SessionDataStore(db, 10_000), children: new ChildRunner(store, new ChildSessionStore(db), queue, log) });
}

const humanSpec = (onTimeout: unknown) =>
  checkDefinition({
    cascade_id: 'approve',
    model: 'fake/m',
    phases: [{ name: 'ask', human_input: { prompt: 'Ship it?', timeout: '1h', on_timeout: onTimeout } }],
  });

describe('question timeouts on the kernel clock', () => {
  it('a human checkpoint times out when the fake clock passes its deadline, is closed once across sweepers, and the session continues with the default answer', async () => {
    const clock = new FakeClock();
    const worker = workerOn(clock);
    const id = newId();
    await store.createSession(id, humanSpec({ default: 'yes, ship it' }), {});
    expect(await worker.runSession(id)).toBe('blocked');
    const [cp] = (await store.listHumanCheckpoints('pending')).filter((h) => h.sessionId === id);
    expect(cp!.onTimeout).toBe('default');
    // The deadline is the fake clock's now + 1 h, not the database's.
    expect(Date.parse(cp!.expiresAt!)).toBe(clock.now() + HOUR);

    await clock.advance(HOUR - 1_000);
    await sweepOnce(store, queue, config, NO_METRICS, clock);
    expect((await store.getHumanCheckpoint(cp!.id))!.status).toBe('pending');
    expect((await store.getSession(id)).status).toBe('blocked');

    await clock.advance(1_000);
    // Two sweepers at once (a role handover): the question is closed and the session queued by one of them.
    await Promise.all([sweepOnce(store, queue, config, NO_METRICS, clock), sweepOnce(store, queue, config, NO_METRICS, clock)]);
    expect((await store.getHumanCheckpoint(cp!.id))!.status).toBe('timed_out');
    expect((await store.getSession(id)).status).toBe('starting');
    expect(await queue.getJob(SESSION_QUEUE, `${id}-t${cp!.id}`.replace(/:/g, '_'))).toBeDefined();
    expect(await sweepOnce(store, queue, config, NO_METRICS, clock)).toBe(0);

    expect(await worker.runSession(id)).toBe('completed');
    const s = await store.getSession(id);
    expect(s.outputs).toEqual({ ask: 'yes, ship it' });
  });

  it('on_timeout: fail ends the session with the reason; continue goes on with no answer', async () => {
    const clock = new FakeClock();
    const worker = workerOn(clock);
    const failing = newId();
    const going = newId();
    await store.createSession(failing, humanSpec('fail'), {});
    await store.createSession(going, humanSpec('continue'), {});
    expect(await worker.runSession(failing)).toBe('blocked');
    expect(await worker.runSession(going)).toBe('blocked');
    await clock.advance(HOUR);
    await sweepOnce(store, queue, config, NO_METRICS, clock);
    expect(await worker.runSession(failing)).toBe('failed');
    expect((await store.getSession(failing)).error).toMatch(/^human checkpoint .* timed out$/);
    expect(await worker.runSession(going)).toBe('completed');
    expect((await store.getSession(going)).outputs).toEqual({ ask: null });
  });

  it("an ask_human question times out on the clock; the phase's default answer goes back to the model as the tool result", async () => {
    const clock = new FakeClock();
    const worker = workerOn(clock);
    const id = newId();
    const spec = checkDefinition({
      cascade_id: 'asker',
      model: 'fake/m',
      phases: [{ name: 'pick', instructions: 'Pick a colour; ask if unsure.', tools: ['ask_human'], ask_human: { timeout: '30m', on_timeout: { default: 'green' } } }],
    });
    await fake.script({
      sessionHeader: 'x-capstan-session',
      replies: [{ toolCalls: [{ name: 'ask_human', arguments: { question: 'Which colour?' } }] }, { text: 'green it is' }],
    });
    await store.createSession(id, spec, {});
    expect(await worker.runSession(id)).toBe('blocked');
    const [cp] = (await store.listHumanCheckpoints('pending')).filter((h) => h.sessionId === id);
    expect(cp!.prompt).toBe('Which colour?');
    expect(Date.parse(cp!.expiresAt!)).toBe(clock.now() + HOUR / 2);
    await clock.advance(HOUR / 2);
    await sweepOnce(store, queue, config, NO_METRICS, clock);
    expect(await worker.runSession(id)).toBe('completed');
    expect((await store.getSession(id)).outputs).toEqual({ pick: 'green it is' });
    const seen = (await fake.stats()).requests.filter((r) => r.headers['x-capstan-session'] === id);
    expect(seen).toHaveLength(2);
    expect(seen[1]!.messages.at(-1)).toMatchObject({ role: 'tool', content: 'green' });
  });

  it('refuses ask_human settings on a phase without the tool, and a bad on_timeout, naming the field', () => {
    const pathsOf = (def: unknown) => {
      try {
        checkDefinition(def);
      } catch (err) {
        if (err instanceof Invalid) return err.issues.map((i) => i.path);
        throw err;
      }
      return [];
    };
    expect(pathsOf({ cascade_id: 'x', model: 'm', phases: [{ name: 'a', instructions: 'A', ask_human: { timeout: '1h' } }] })).toEqual(['phases.0.ask_human']);
    expect(pathsOf({ cascade_id: 'x', model: 'm', phases: [{ name: 'a', human_input: { prompt: 'p', on_timeout: 'maybe' } }] })).toEqual(['phases.0.human_input.on_timeout']);
    expect(pathsOf({ cascade_id: 'x', model: 'm', phases: [{ name: 'a', instructions: 'A', tools: ['ask_human'], ask_human: { timeout: 'soon' } }] })).toEqual(['phases.0.ask_human.timeout']);
  });
});
