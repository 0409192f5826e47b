/** The runtime side of declarative triggers: connector functions, per-slot schedules, and the scheduler picking up schedules applied later. */
import { describe, expect, it } from 'vitest';
import { ActionRegistry, Invalid, parseSchedule, type Logger } from '../../src/kernel/index.ts';
import { MemoryKvStore } from '../../src/kernel/kv/memory-kv.ts';
import type { WorkflowSpec } from '../../src/modules/workflow/model/builder.ts';
import { specFromDefinition } from '../../src/modules/workflow/declarative/spec.ts';
import { parseDefinition } from '../../src/modules/workflow/definition/index.ts';
import { runScheduler, type TriggerTarget } from '../../src/modules/workflow/runtime/triggers.ts';

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child: () => silent } as unknown as Logger;
const deps = { actions: new ActionRegistry(), commandsEnabled: false, defaultPauseAfterErrCount: 5 };

const ORDER = `
name: order
start: created
states:
  created: { callback: { to: [paid, cancelled] } }
  paid: {}
  cancelled: {}
schedules:
  - { name: fixed, cron: "0 2 * * *", foreignId: nightly, object: { kind: report } }
  - { name: per-slot, cron: "*/10 * * * * *", foreignId: "tick-{{ schedule.at }}", object: { at: "{{ schedule.at }}", by: "{{ schedule.name }}" } }
connectors:
  - name: orders
    subject: shop.order.created
    when: "event.data.total > 0"
    trigger: { foreignId: "order-{{ event.data.id }}", object: "{{ event.data }}" }
  - name: payments
    subject: shop.payment.settled
    callback: { foreignId: "order-{{ event.data.orderId }}", status: created, to: paid, object: { paidAt: "{{ event.data.at }}" } }
  - name: manual
    trigger: { foreignId: "{{ event.data.id }}" }
`;

function spec(text: string, log = silent): WorkflowSpec {
  return specFromDefinition(parseDefinition(text), { ...deps, log });
}
const event = (data: unknown, type = 'shop.order.created') => ({ type, id: 'evt-1', data });
/** What a connector function throws, synchronously or not. */
async function thrown(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('declarative connectors at run time', () => {
  const s = spec(ORDER);
  const byName = (n: string) => s.connectors.find((c) => c.name === n)!;

  it('compiles onto ConnectorSpecs with their subjects; a webhook-only connector has none (it holds no role)', () => {
    expect(s.connectors.map((c) => [c.name, c.source])).toEqual([
      ['orders', 'shop.order.created'],
      ['payments', 'shop.payment.settled'],
      ['manual', undefined],
    ]);
  });

  it('a trigger connector renders the foreign id and keeps the object’s types; `when` skips events', async () => {
    expect(await byName('orders').fn(event({ id: 42, total: 9.5, lines: [1, 2] }))).toEqual({ trigger: { foreignId: 'order-42', object: { id: 42, total: 9.5, lines: [1, 2] } } });
    expect(await byName('orders').fn(event({ id: 43, total: 0 }))).toBeUndefined();
    expect(await byName('orders').fn(event(null))).toBeUndefined();
  });

  it('a callback connector asks to move the run from its status to its destination', async () => {
    expect(await byName('payments').fn(event({ orderId: 'a1', at: '2026-01-01' }, 'shop.payment.settled'))).toEqual({
      callback: { foreignId: 'order-a1', status: 'created', body: { status: 'paid', object: { paidAt: '2026-01-01' } } },
    });
  });

  it('an event that renders no foreign id: a webhook gets Invalid naming the field, a bus event is skipped with a warning', async () => {
    const warnings: unknown[] = [];
    const logged = spec(ORDER, { ...silent, warn: (o: unknown) => warnings.push(o) } as unknown as Logger);
    const manual = logged.connectors.find((c) => c.name === 'manual')!;
    expect(await manual.fn(event({}, 'some.subject'))).toBeUndefined();
    expect(warnings).toHaveLength(1);
    const err = await thrown(() => manual.fn(event({}, 'webhook')));
    expect(err).toBeInstanceOf(Invalid);
    expect((err as Invalid).issues[0]!.path).toBe('connectors.manual.trigger.foreignId');
    expect(await thrown(() => manual.fn(event({ id: 'x'.repeat(201) }, 'webhook')))).toBeInstanceOf(Invalid);
    expect(await manual.fn(event({ id: 7 }, 'webhook'))).toEqual({ trigger: { foreignId: '7', object: undefined } });
    // A path holding an object would make a meaningless id; one that is missing would merge unrelated events.
    expect(((await thrown(() => manual.fn(event({ id: { a: 1 } }, 'webhook')))) as Invalid).issues[0]!.message).toBe("'event.data.id' is not a string, number or boolean");
    expect(((await thrown(() => byName('orders').fn(event({ total: 3 }, 'webhook')))) as Invalid).issues[0]!.message).toBe("'event.data.id' is missing");
  });

  it('in a DAG, an event whose object breaks the input schema is refused before it reaches the engine', async () => {
    const d = spec(`
name: calc
input: { type: object, properties: { a: { type: number } }, required: [a] }
steps: [{ id: s, action: mathx.add }]
connectors: [{ name: go, subject: calc.requested, trigger: { foreignId: "{{ event.id }}", object: "{{ event.data }}" } }]
`);
    const go = d.connectors[0]!;
    expect(await go.fn(event({ a: 1 }, 'calc.requested'))).toEqual({ trigger: { foreignId: 'evt-1', object: { a: 1 } } });
    expect(await go.fn(event({ b: 1 }, 'calc.requested'))).toBeUndefined();
    const err = (await thrown(() => go.fn(event({ b: 1 }, 'webhook')))) as Invalid;
    expect(err).toBeInstanceOf(Invalid);
    expect(err.issues).toEqual([{ path: 'object.a', message: 'required' }]);
  });
});

describe('declarative schedules at run time', () => {
  const s = spec(ORDER);

  it('a literal schedule is a plain ScheduleSpec; a templated one renders per slot', () => {
    const [fixed, perSlot] = s.schedules;
    expect(fixed).toEqual({ name: 'fixed', cron: '0 2 * * *', foreignId: 'nightly', object: { kind: 'report' } });
    const at = parseSchedule(perSlot!.cron, { timezone: perSlot!.timezone }).next(new Date('2026-03-04T05:06:07.500Z'));
    expect(at.toISOString()).toBe('2026-03-04T05:06:10.000Z');
    expect(perSlot!.render!(at)).toEqual({ foreignId: 'tick-2026-03-04T05:06:10.000Z', object: { at: '2026-03-04T05:06:10.000Z', by: 'per-slot' } });
  });

  it('the scheduler fires a schedule registered while it waits for a far slot of another, one run per slot', async () => {
    const specs: WorkflowSpec[] = [spec(`
name: far
start: a
states: { a: { callback: { to: [b] } }, b: {} }
schedules: [{ name: leap-day, cron: "0 0 0 29 2 *", foreignId: leap }]
`)];
    const triggered: { workflow: string; foreignId: string; object: unknown }[] = [];
    let gotTwo!: () => void;
    const two = new Promise<void>((r) => (gotTwo = r));
    const target: TriggerTarget = {
      async trigger(workflow, foreignId, object) {
        triggered.push({ workflow, foreignId, object });
        if (triggered.length === 2) gotTwo();
        return {};
      },
      async callbackByForeignId() {
        throw new Error('not used');
      },
    };
    const kv = new MemoryKvStore();
    const slots = await kv.bucket('slots');
    const stop = new AbortController();
    const running = runScheduler(() => specs, slots, target, silent, stop.signal);
    // Applied after the scheduler computed its next slot (29 February): it must still fire within its own slots.
    specs.push(spec(`
name: tick
start: a
states: { a: { callback: { to: [b] } }, b: {} }
schedules: [{ name: every-second, cron: "* * * * * *", foreignId: "t-{{ schedule.at }}" }]
`));
    await two;
    stop.abort();
    await running;
    expect(triggered.every((t) => t.workflow === 'tick')).toBe(true);
    const ids = triggered.slice(0, 2).map((t) => t.foreignId);
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) expect(new Date(id.slice(2)).getUTCMilliseconds()).toBe(0);
    // Each fired slot was claimed once in the KV bucket.
    for (const id of ids) expect(await slots.get(`tick.every-second.${new Date(id.slice(2)).getTime()}`)).toBeDefined();
    await kv.close();
  });
});
