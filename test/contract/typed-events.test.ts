/** defineEvent: one definition checks what is published and types what is consumed, on the memory bus and real NATS. */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import * as z from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryBus } from '../../src/kernel/bus/memory-bus.ts';
import { NatsBus } from '../../src/kernel/bus/nats-bus.ts';
import { defineEvent, Invalid, subjectToken, type EventBus, type EventEnvelope } from '../../src/kernel/index.ts';
import { RunStatusChanged } from '../../src/modules/workflow/index.ts';
import { NATS_URL, uniqueName } from '../helpers/env.ts';
import { Collector } from './bus-contract.ts';

const TrialDone = defineEvent('breeder.trial.done', z.object({ trialId: z.string().min(1), score: z.number(), params: z.record(z.string(), z.number()) }));

describe('defineEvent without a bus', () => {
  it('refuses a bad type at definition time', () => {
    expect(() => defineEvent('Bad Type', z.object({}))).toThrow(Invalid);
    expect(() => defineEvent('a.*.b', z.object({}))).toThrow(Invalid);
  });

  it('parses data, naming malformed fields under data', () => {
    const env = (data: unknown): EventEnvelope => ({ id: 'e1', type: TrialDone.type, time: new Date().toISOString(), source: 't', data });
    expect(TrialDone.parse(env({ trialId: 't1', score: 0.5, params: { a: 1 } }))).toEqual({ trialId: 't1', score: 0.5, params: { a: 1 } });
    try {
      TrialDone.parse(env({ trialId: '', score: 'high', params: { a: 'x' } }));
      throw new Error('parsed');
    } catch (err) {
      expect(err).toBeInstanceOf(Invalid);
      expect((err as Invalid).issues.map((i) => i.path)).toEqual(['data.trialId', 'data.score', 'data.params.a']);
    }
  });

  it('builds outbox rows and subjects for routed events', () => {
    expect(TrialDone.outbox({ trialId: 't', score: 1, params: {} }, { route: ['b1'] })).toEqual({ type: 'breeder.trial.done', data: { trialId: 't', score: 1, params: {} }, route: ['b1'] });
    expect(RunStatusChanged.subject([subjectToken('order'), subjectToken('paid')])).toBe('workflow.run.status_changed.order.paid');
    expect(TrialDone.subject()).toBe('breeder.trial.done');
  });
});

/** The same checks on each bus. */
function suite(name: string, open: () => Promise<{ bus: EventBus; cleanup: () => Promise<void> }>): void {
  describe(`typed events on ${name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterAll(async () => {
      for (const c of cleanups) await c();
    });

    it('a consumer gets typed data; malformed data goes to onInvalid, the publisher is refused before sending', async () => {
      const { bus, cleanup } = await open();
      cleanups.push(cleanup);
      const got = new Collector();
      const invalid: string[] = [];
      const sub = await bus.subscribe(
        TrialDone.subject(),
        TrialDone.handler(
          (e) => {
            const score: number = e.data.score; // typed: no cast
            got.push({ ...e, data: score });
          },
          (e, err) => invalid.push(`${e.id}:${err.issues.map((i) => i.path).join(',')}`),
        ),
      );
      await expect(TrialDone.publish(bus, { trialId: '', score: 1, params: {} })).rejects.toThrow(Invalid);
      const raw = await bus.publish(TrialDone.type, { trialId: 't0', score: 'NaN' }); // a producer that skipped the definition
      const ok = await TrialDone.publish(bus, { trialId: 't1', score: 0.75, params: { lr: 0.1 } });
      expect(ok.data).toEqual({ trialId: 't1', score: 0.75, params: { lr: 0.1 } });
      await got.atLeast(1);
      expect(got.data).toEqual([0.75]);
      expect(invalid).toEqual([`${raw.id}:data.score,data.params`]);
      await sub.unsubscribe();
    });

    it("a handler with the default policy fails on malformed data, so the bus's redelivery or error path sees it", async () => {
      const handler = TrialDone.handler(() => {});
      await expect(handler({ id: 'x', type: TrialDone.type, time: new Date().toISOString(), source: 's', data: {} })).rejects.toThrow(Invalid);
    });
  });
}

suite('memory', async () => {
  const bus = new MemoryBus({ source: 'typed-events' });
  return { bus, cleanup: () => bus.close() };
});

suite('nats', async () => {
  const bus = await NatsBus.connect({ url: NATS_URL, prefix: uniqueName('typed'), source: 'typed-events', duplicateWindowMs: 60_000 });
  return {
    bus,
    cleanup: async () => {
      await bus.close();
      const admin = await connect({ servers: NATS_URL });
      await (await jetstreamManager(admin)).streams.delete(bus.streamName).catch(() => {});
      await admin.close();
    },
  };
});
