/** `schedules:` and `connectors:` in declarative definitions: parsing, the compiled graph and every validation issue. */
import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/modules/workflow/definition/index.ts';
import { issuesOf } from '../helpers/issues-of.ts';

const STATES = {
  created: { callback: { to: ['paid', 'cancelled'] } },
  paid: { callback: { to: ['shipped'] } },
  shipped: {},
  cancelled: {},
};

/** A state machine in JSON with the order states and the given trigger keys. */
function sm(extra: Record<string, unknown>, name = 'order'): string {
  return JSON.stringify({ name, start: 'created', states: STATES, ...extra });
}

/** A one-step DAG in JSON with an input schema and the given trigger keys. */
function dag(extra: Record<string, unknown>): string {
  return JSON.stringify({
    name: 'report',
    input: { type: 'object', properties: { kind: { type: 'string' } }, required: ['kind'], additionalProperties: false },
    steps: [{ id: 'make', action: 'mathx.add' }],
    ...extra,
  });
}

describe('declarative schedules and connectors', () => {
  it('compiles the YAML example of the docs onto the graph', () => {
    const { graph } = parseDefinition(`
name: order
start: created
states:
  created: { callback: { to: [paid, cancelled] } }
  paid: {}
  cancelled: {}
schedules:
  - name: nightly
    cron: "0 2 * * *"
    foreignId: "nightly-{{ schedule.at }}"
    object: { kind: report, at: "{{ schedule.at }}" }
connectors:
  - name: orders
    subject: shop.order.created
    trigger: { foreignId: "{{ event.data.orderId }}", object: "{{ event.data }}" }
  - name: payments
    subject: shop.payment.*
    when: "event.data.ok == true"
    callback: { foreignId: "{{ event.data.orderId }}", status: created, to: paid }
  - name: manual
    trigger: { foreignId: "manual-{{ event.id }}" }
`);
    expect(graph.schedules).toEqual([{ name: 'nightly', cron: '0 2 * * *', foreignId: 'nightly-{{ schedule.at }}', object: { kind: 'report', at: '{{ schedule.at }}' } }]);
    expect(graph.connectors?.map((c) => [c.name, c.subject, c.trigger ? 'trigger' : 'callback'])).toEqual([
      ['orders', 'shop.order.created', 'trigger'],
      ['payments', 'shop.payment.*', 'callback'],
      ['manual', undefined, 'trigger'],
    ]);
    expect(graph.connectors?.[1]?.when?.source).toBe('event.data.ok == true');
    expect(graph.connectors?.[1]?.callback).toEqual({ foreignId: '{{ event.data.orderId }}', status: 'created', to: 'paid' });
  });

  it('leaves both keys out of the graph when the definition has none', () => {
    const { graph } = parseDefinition(sm({}));
    expect(graph.schedules).toBeUndefined();
    expect(graph.connectors).toBeUndefined();
  });

  it('names a bad cron, a cron that never fires and a duplicate schedule name', () => {
    const issues = issuesOf(() =>
      parseDefinition(
        sm({
          schedules: [
            { name: 'a', cron: '61 * * * *', foreignId: 'x' },
            { name: 'b', cron: '* * *', foreignId: 'x' },
            { name: 'c', cron: '0 0 31 2 *', foreignId: 'x' },
            { name: 'a', cron: '* * * * * *', foreignId: 'x' },
          ],
        }),
      ),
    );
    expect(issues.map((i) => i.path)).toEqual(['schedules.3.name', 'schedules.0.cron', 'schedules.1.cron', 'schedules.2.cron']);
    expect(issues[0]!.message).toBe("duplicate schedule name 'a' (also schedules.0)");
    expect(issues[1]!.message).toContain('got value 61 expected range 0-59');
    expect(issues[2]!.message).toContain('must have 5 fields');
    expect(issues[3]!.message).toContain('never fires');
  });

  it('keeps a schedule\'s time zone and names an unknown one', () => {
    const { graph } = parseDefinition(sm({ schedules: [{ name: 'weekdays', cron: '0 9 * * MON-FRI', timezone: 'Europe/Berlin', foreignId: 'x' }, { name: 'h', cron: '@hourly', foreignId: 'y' }] }));
    expect(graph.schedules).toEqual([
      { name: 'weekdays', cron: '0 9 * * MON-FRI', timezone: 'Europe/Berlin', foreignId: 'x' },
      { name: 'h', cron: '@hourly', foreignId: 'y' },
    ]);
    const issues = issuesOf(() => parseDefinition(sm({ schedules: [{ name: 'a', cron: '0 9 * * *', timezone: 'Berlin/Europe', foreignId: 'x' }] })));
    expect(issues).toEqual([{ path: 'schedules.0.timezone', message: "'Berlin/Europe' is not a known IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)" }]);
  });

  it('names bad templates in schedules: syntax, and roots a schedule cannot see', () => {
    const issues = issuesOf(() =>
      parseDefinition(
        sm({
          schedules: [
            { name: 'a', cron: '0 2 * * *', foreignId: 'n-{{ schedule.at' },
            { name: 'b', cron: '0 2 * * *', foreignId: '{{ event.id }}', object: { who: '{{ run.id }}', when: '{{ schedule.day }}' } },
          ],
        }),
      ),
    );
    expect(issues).toEqual([
      { path: 'schedules.0.foreignId', message: "'{{' is not closed by '}}' (at column 3)" },
      { path: 'schedules.1.foreignId', message: "'event.id': a schedule sees only schedule.name, schedule.at" },
      { path: 'schedules.1.object.who', message: "'run.id': a schedule sees only schedule.name, schedule.at" },
      { path: 'schedules.1.object.when', message: "'schedule.day': use schedule.name, schedule.at" },
    ]);
  });

  it('names connector problems: duplicates, subjects, both or neither action, bad conditions and templates', () => {
    const issues = issuesOf(() =>
      parseDefinition(
        sm({
          connectors: [
            { name: 'a', subject: 'shop..created', trigger: { foreignId: 'x' } },
            { name: 'a', subject: 'shop.>.x', trigger: { foreignId: 'x' } },
            { name: 'b', trigger: { foreignId: 'x' }, callback: { foreignId: 'x', status: 'created', to: 'paid' } },
            { name: 'c' },
            { name: 'd', when: 'event.data.ok = true', trigger: { foreignId: 'x' } },
            { name: 'e', when: 'object.ok', trigger: { foreignId: '{{ event.data.id }}', object: { a: '{{ event.type.x }}', b: '{{ event.body }}', c: '{{ object.x }}' } } },
          ],
        }),
      ),
    );
    expect(issues).toEqual([
      { path: 'connectors.1.name', message: "duplicate connector name 'a' (also connectors.0)" },
      { path: 'connectors.0.subject', message: "'shop..created' must not contain empty tokens (leading, trailing or double dots)" },
      { path: 'connectors.1.subject', message: "'shop.>.x' '>' is only allowed as the last token" },
      { path: 'connectors.2', message: "connector 'b' needs exactly one of trigger or callback" },
      { path: 'connectors.3', message: "connector 'c' needs exactly one of trigger or callback" },
      { path: 'connectors.4.when', message: "single '=': use '==' to compare (at column 15)" },
      { path: 'connectors.5.when', message: "'object.ok': a connector sees only the event (event.type, event.id, event.data)" },
      { path: 'connectors.5.trigger.object.a', message: "'event.type.x': event.type has no fields" },
      { path: 'connectors.5.trigger.object.b', message: "'event.body': use event.type, event.id, event.data" },
      { path: 'connectors.5.trigger.object.c', message: "'object.x': a connector sees only the event (event.type, event.id, event.data)" },
    ]);
  });

  it('checks a callback connector against the states: the status must wait for a callback, `to` must be one of its destinations', () => {
    const issues = issuesOf(() =>
      parseDefinition(
        sm({
          connectors: [
            { name: 'a', subject: 's.a', callback: { foreignId: 'x', status: 'shipped', to: 'paid' } },
            { name: 'b', subject: 's.b', callback: { foreignId: 'x', status: 'nowhere', to: 'paid' } },
            { name: 'c', subject: 's.c', callback: { foreignId: 'x', status: 'created', to: 'shipped' } },
            { name: 'd', subject: 's.d', callback: { foreignId: '{{ event.data.id }}', status: 'paid', to: 'shipped', object: '{{ event.data }}' } },
          ],
        }),
      ),
    );
    expect(issues).toEqual([
      { path: 'connectors.0.callback.status', message: "'shipped' is not a state that waits for a callback (states with a callback: created, paid)" },
      { path: 'connectors.1.callback.status', message: "'nowhere' is not a state that waits for a callback (states with a callback: created, paid)" },
      { path: 'connectors.2.callback.to', message: "'shipped' is not a destination of the callback at 'created' (one of: paid, cancelled)" },
    ]);
  });

  it('reports trigger issues together with the states’ own issues', () => {
    const issues = issuesOf(() =>
      parseDefinition(JSON.stringify({ name: 'wf', start: 'a', states: { a: { callback: { to: ['zz'] } } }, connectors: [{ name: 'x', callback: { foreignId: 'f', status: 'a', to: 'zz' } }] })),
    );
    expect(issues.map((i) => i.path)).toContain('states.a.callback.to.0');
    // 'zz' is listed in a's callback, so the connector itself is consistent with what the state says.
    expect(issues.map((i) => i.path)).not.toContain('connectors.0.callback.to');
  });

  it('rejects unknown keys and bad names through the schema, with their paths', () => {
    const issues = issuesOf(() => parseDefinition(sm({ connectors: [{ name: 'Bad Name', subject: 'a.b', trigger: { foreignId: 'x', start: 'paid' } }], schedules: [{ name: 'n', cron: '* * * * *' }] })));
    expect(issues.map((i) => i.path).sort()).toEqual(['connectors.0.name', 'connectors.0.trigger.start', 'schedules.0.foreignId']);
  });

  it('accepts a workflow and connector name of 64 characters each: the names derived from them are bounded (names.ts)', () => {
    const parsed = parseDefinition(sm({ connectors: [{ name: `c${'x'.repeat(63)}`, subject: 'a.b', trigger: { foreignId: 'x' } }] }, `w${'y'.repeat(63)}`));
    expect(parsed.graph.connectors).toHaveLength(1);
  });

  it('in a DAG: triggers only, and a literal object is checked against the input schema', () => {
    const ok = parseDefinition(dag({ connectors: [{ name: 'in', subject: 'r.requested', trigger: { foreignId: '{{ event.id }}', object: '{{ event.data }}' } }], schedules: [{ name: 'n', cron: '0 2 * * *', foreignId: 'n', object: { kind: 'daily' } }] }));
    expect(ok.kind).toBe('dag');
    expect(ok.graph.connectors).toHaveLength(1);
    expect(ok.graph.schedules).toHaveLength(1);
    const issues = issuesOf(() =>
      parseDefinition(
        dag({
          connectors: [
            { name: 'cb', subject: 'r.done', callback: { foreignId: 'x', status: 'stage-1', to: 'completed' } },
            { name: 'lit', subject: 'r.lit', trigger: { foreignId: 'x', object: { kind: 3 } } },
          ],
          schedules: [{ name: 'n', cron: '0 2 * * *', foreignId: 'n', object: { other: true } }],
        }),
      ),
    );
    expect(issues).toEqual([
      { path: 'schedules.0.object.kind', message: 'required' },
      { path: 'schedules.0.object.other', message: 'unknown field' },
      { path: 'connectors.0.callback', message: 'a DAG has no states that wait for a callback; a DAG connector can only trigger' },
      { path: 'connectors.1.trigger.object.kind', message: 'expected string, got integer' },
    ]);
  });

  it('keeps event and schedule paths out of states and steps', () => {
    const smIssues = issuesOf(() => parseDefinition(JSON.stringify({ name: 'wf', start: 'a', states: { a: { action: { name: 'x.y', input: { v: '{{ event.data }}' }, on: { ok: 'b' } } }, b: {} } })));
    expect(smIssues).toEqual([{ path: 'states.a.action.input.v', message: "'event.data': 'event' exists only in connectors" }]);
    const dagIssues = issuesOf(() => parseDefinition(JSON.stringify({ name: 'd', steps: [{ id: 's', action: 'x.y', input: { v: '{{ schedule.at }}' } }] })));
    expect(dagIssues).toEqual([{ path: 'steps.0.input.v', message: "'schedule.at': 'schedule' exists only in schedules" }]);
  });
});
