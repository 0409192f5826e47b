/**
 * The cascades store's writes on real PostgreSQL: every state change commits with its event in the kernel outbox
 * (or neither does), a worker fenced out by a newer epoch writes nothing, and the claim brings the newest checkpoint.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/kernel/db/port.ts';
import { newId } from '../../../src/kernel/ids.ts';
import { PhaseCompleted, SessionCompleted } from '../../../src/modules/cascades/model/events.ts';
import { cascadesConfigSchema } from '../../../src/modules/cascades/config.ts';
import { checkDefinition } from '../../../src/modules/cascades/model/parse-definition.ts';
import { cleanupOnce } from '../../../src/modules/cascades/runtime/sweeper.ts';
import { CascadeStore, prepareTurn, type TurnWrite } from '../../../src/modules/cascades/store/index.ts';
import { databaseForFile } from '../../helpers/database-for-file.ts';

const fx = databaseForFile('cascw');
let db: Database;
let store: CascadeStore;
beforeAll(() => {
  db = fx.db;
  store = new CascadeStore(db);
});

const SPEC = checkDefinition({ cascade_id: 'two', model: 'fake/m', phases: [{ name: 'a', instructions: 'A' }, { name: 'b', instructions: 'B' }] });

interface OutboxRow {
  event_id: string;
  type: string;
  data: Record<string, unknown>;
  correlation_id: string;
}

async function eventsOf(sessionId: string): Promise<OutboxRow[]> {
  return db.query<OutboxRow>('SELECT event_id, type, data, correlation_id FROM kernel_outbox WHERE correlation_id = $1::text ORDER BY id', [sessionId]);
}

async function count(table: string, sessionId: string): Promise<number> {
  const [r] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE session_id = $1::text`, [sessionId]);
  return Number(r!.n);
}

function turn(over: Partial<TurnWrite> = {}): TurnWrite {
  return {
    kind: 'phase',
    checkpoint: { phase: 'b', turn: 0, messages: [] },
    state: { k: 1 },
    outputs: { a: 'out-a' },
    completed: ['a'],
    logs: [{ phase: 'a', turn: 1, kind: 'assistant', model: 'fake/m', tokensIn: 3, tokensOut: 4, cost: 0.25, content: { text: 'out-a' } }],
    costs: [{ phase: 'a', model: 'fake/m', tokensIn: 3, tokensOut: 4, cost: 0.25 }],
    events: [],
    ...over,
  };
}

async function started(): Promise<{ id: string; epoch: number }> {
  const id = newId();
  await store.createSession(id, SPEC, {});
  const claimed = await store.claim(id, 'w1', 60_000);
  return { id, epoch: claimed!.session.epoch };
}

describe('cascades store writes', () => {
  it('a new session commits with its started event', async () => {
    const id = newId();
    const s = await store.createSession(id, SPEC, { topic: 'x' });
    expect(s.status).toBe('starting');
    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toEqual(['cascades.session.started']);
    expect(events[0]!.data).toEqual({ sessionId: id, cascadeId: 'two', inputs: { topic: 'x' } });
  });

  it('a turn write commits state, checkpoint, logs, costs and its event together; the claim then returns that checkpoint', async () => {
    const { id, epoch } = await started();
    const phase = PhaseCompleted.outbox({ sessionId: id, cascadeId: 'two', phase: 'a', next: 'b', output: 'out-a' });
    expect(await store.writeTurn(prepareTurn(id, epoch, turn({ events: [phase] })))).toBeCloseTo(0.25, 12);
    const s = await store.getSession(id);
    expect(s).toMatchObject({ status: 'running', currentPhase: 'b', state: { k: 1 }, outputs: { a: 'out-a' }, completed: ['a'], tokensIn: 3, tokensOut: 4 });
    expect(await count('cascades_logs', id)).toBe(1);
    expect(await count('cascades_costs', id)).toBe(1);
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(['cascades.session.started', 'cascades.session.phase']);
    // A worker that takes the session over (its heartbeat lapsed) resumes from this checkpoint.
    await db.query(`UPDATE cascades_sessions SET heartbeat_at = now() - interval '1 hour' WHERE id = $1::text`, [id]);
    const again = await store.claim(id, 'w2', 60_000);
    expect(again!.session.epoch).toBe(epoch + 1);
    expect(again!.checkpoint).toEqual({ phase: 'b', turn: 0, messages: [] });
  });

  it('a write at a stale epoch writes nothing: no state, checkpoint, log, cost or event', async () => {
    const { id, epoch } = await started();
    await db.query(`UPDATE cascades_sessions SET heartbeat_at = now() - interval '1 hour' WHERE id = $1::text`, [id]);
    await store.claim(id, 'w2', 60_000);
    const phase = PhaseCompleted.outbox({ sessionId: id, cascadeId: 'two', phase: 'a', next: 'b', output: 'out-a' });
    expect(await store.writeTurn(prepareTurn(id, epoch, turn({ events: [phase] })))).toBeUndefined();
    const s = await store.getSession(id);
    expect(s).toMatchObject({ currentPhase: 'a', completed: [], tokensIn: 0, owner: 'w2' });
    expect(await count('cascades_checkpoints', id)).toBe(0);
    expect(await count('cascades_logs', id)).toBe(0);
    expect(await count('cascades_costs', id)).toBe(0);
    expect((await eventsOf(id)).map((e) => e.type)).toEqual(['cascades.session.started']);
  });

  it('the finishing write ends the session and its completed event carries the total cost; other events keep their data', async () => {
    const { id, epoch } = await started();
    await store.writeTurn(prepareTurn(id, epoch, turn()));
    const last = PhaseCompleted.outbox({ sessionId: id, cascadeId: 'two', phase: 'b', next: null, output: { cost: 'not a number' } });
    const done = SessionCompleted.outbox({ sessionId: id, cascadeId: 'two', outputs: {}, cost: 0 });
    const final = turn({ checkpoint: { phase: null, turn: 0, messages: [] }, completed: ['a', 'b'], costs: [{ phase: 'b', model: 'fake/m', tokensIn: 1, tokensOut: 1, cost: 0.5 }], events: [last, done], finish: { status: 'completed' } });
    expect(await store.writeTurn(prepareTurn(id, epoch, final))).toBeCloseTo(0.75, 12);
    const s = await store.getSession(id);
    expect(s).toMatchObject({ status: 'completed', currentPhase: null, owner: null, completed: ['a', 'b'] });
    expect(s.finishedAt).not.toBeNull();
    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toEqual(['cascades.session.started', 'cascades.session.phase', 'cascades.session.completed']);
    expect(events[1]!.data.output).toEqual({ cost: 'not a number' });
    expect(events[2]!.data.cost).toBeCloseTo(0.75, 12);
    // Ended: a further write at the same epoch is refused.
    expect(await store.writeTurn(prepareTurn(id, epoch, turn()))).toBeUndefined();
  });

  it('cancel and signal commit with their events; neither reaches a session that has ended', async () => {
    const { id } = await started();
    expect(await store.signal(id, 'shorter')).toBe(true);
    expect(await store.cancel(id, 'changed my mind')).toMatchObject({ status: 'cancelled' });
    expect(await store.cancel(id, 'again')).toBeUndefined();
    expect(await store.signal(id, 'too late')).toBe(false);
    const events = await eventsOf(id);
    expect(events.map((e) => e.type)).toEqual(['cascades.session.started', 'cascades.session.signalled', 'cascades.session.cancelled']);
    expect(events[1]!.data).toEqual({ sessionId: id, cascadeId: 'two', text: 'shorter' });
    expect(events[2]!.data).toEqual({ sessionId: id, cascadeId: 'two', reason: 'changed my mind' });
  });

  it('the sweep moves lapsed sessions with a recovered event per attempt, and a failed one once the attempts are spent', async () => {
    const { id } = await started();
    const lapse = () => db.query(`UPDATE cascades_sessions SET heartbeat_at = now() - interval '1 hour' WHERE id = $1::text`, [id]);
    await lapse();
    const first = (await store.sweepOrphans(1_000, 1)).find((s) => s.id === id);
    expect(first).toMatchObject({ status: 'orphaned', recoveries: 1 });
    await store.claim(id, 'w2', 60_000);
    await lapse();
    const second = (await store.sweepOrphans(1_000, 1)).find((s) => s.id === id);
    expect(second).toMatchObject({ status: 'error', recoveries: 2 });
    const events = (await eventsOf(id)).filter((e) => e.type !== 'cascades.session.started');
    expect(events.map((e) => [e.type, e.event_id])).toEqual([
      ['cascades.session.recovered', `${id}.sweep.1`],
      ['cascades.session.failed', `${id}.sweep.2`],
    ]);
    expect(events[0]!.data).toEqual({ sessionId: id, cascadeId: 'two', attempt: 1, phase: 'a' });
    expect(events[1]!.data).toMatchObject({ sessionId: id, phase: 'a', reason: expect.stringContaining('recovery attempts spent') });
  });

  it('cleanup deletes sessions that ended before the retention with everything they wrote; running and recent ones stay', async () => {
    const ended = await started();
    await store.writeTurn(prepareTurn(ended.id, ended.epoch, turn({ finish: { status: 'completed' } })));
    await db.query(`INSERT INTO cascades_human_checkpoints (id, session_id, phase, prompt, status, on_timeout) VALUES ($1::text, $1::text, 'a', 'ok?', 'answered', 'continue')`, [ended.id]);
    const recent = await started();
    await store.writeTurn(prepareTurn(recent.id, recent.epoch, turn({ finish: { status: 'error', error: 'x' } })));
    const running = await started();
    await store.writeTurn(prepareTurn(running.id, running.epoch, turn()));
    await db.query(`UPDATE cascades_sessions SET finished_at = now() - interval '2 days' WHERE id = $1::text`, [ended.id]);
    // An old heartbeat does not make a running session old enough: only the end counts.
    await db.query(`UPDATE cascades_sessions SET created_at = now() - interval '2 days', heartbeat_at = now() - interval '2 days' WHERE id = $1::text`, [running.id]);
    const config = cascadesConfigSchema.parse({ retentionMs: 24 * 60 * 60 * 1000 });
    expect(await cleanupOnce(store, config)).toBeGreaterThanOrEqual(1);
    await expect(store.getSession(ended.id)).rejects.toThrow(/not found|session/i);
    for (const table of ['cascades_checkpoints', 'cascades_logs', 'cascades_costs', 'cascades_human_checkpoints']) expect(await count(table, ended.id), table).toBe(0);
    expect((await store.getSession(recent.id)).status).toBe('error');
    expect((await store.getSession(running.id)).status).toBe('running');
    expect(await count('cascades_logs', running.id)).toBe(1);
    // retentionMs 0 keeps everything.
    await db.query(`UPDATE cascades_sessions SET finished_at = now() - interval '2 days' WHERE id = $1::text`, [recent.id]);
    expect(await cleanupOnce(store, cascadesConfigSchema.parse({ retentionMs: 0 }))).toBe(0);
    expect((await store.getSession(recent.id)).status).toBe('error');
  });
});
