/** Workflow definitions: the state-machine form, parsing YAML/JSON, validation issues and Mermaid output. */
import { describe, expect, it } from 'vitest';
import { allowedNext, isTerminal, parseDefinition, stateOf, toMermaid } from '../../src/modules/workflow/definition/index.ts';
import { issuesOf } from '../helpers/issues-of.ts';

// The example from the workflow issue, verbatim.
const ORDER_YAML = `name: order
start: created
states:
  created:  { callback: { to: [paid, cancelled] }, timeout: { after: 30m, to: cancelled } }
  paid:     { http: { url: "http://127.0.0.1:9000/ship", to: [shipped, failed] } }
  shipped:  {}            # no outgoing edge: terminal
  cancelled: {}
  failed: {}
`;

/** A state machine in JSON from a states object (start defaults to 'a'). */
function sm(states: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ name: 'wf', start: 'a', states, ...extra });
}

describe('state-machine definitions', () => {
  it('compiles the order example from the issue', () => {
    const { kind, definition, graph } = parseDefinition(ORDER_YAML);
    expect(kind).toBe('state-machine');
    expect(definition.name).toBe('order');
    expect(graph.start).toBe('created');
    expect(graph.terminals).toEqual(['shipped', 'cancelled', 'failed']);
    expect(stateOf(graph, 'created')?.timeout).toEqual({ afterMs: 30 * 60_000, to: 'cancelled' });
    expect(stateOf(graph, 'created')?.callback).toEqual({ to: ['paid', 'cancelled'] });
    expect(stateOf(graph, 'paid')?.work).toEqual({
      kind: 'http',
      http: { url: 'http://127.0.0.1:9000/ship', method: 'POST', headers: {}, timeoutMs: undefined },
      to: ['shipped', 'failed'],
    });
    expect(stateOf(graph, 'paid')?.parallel).toBe(1);
    expect(isTerminal(graph, 'shipped')).toBe(true);
    expect(isTerminal(graph, 'created')).toBe(false);
    expect(allowedNext(graph, 'created', ['callback'])).toEqual(['paid', 'cancelled']);
    expect(allowedNext(graph, 'created', ['timeout'])).toEqual(['cancelled']);
    expect(allowedNext(graph, 'created').sort()).toEqual(['cancelled', 'paid']);
    // Lookups never fall through to Object.prototype.
    expect(stateOf(graph, 'constructor')).toBeUndefined();
    expect(stateOf(graph, 'toString')).toBeUndefined();
  });

  it('reads the same definition from JSON', () => {
    const json = JSON.stringify({
      name: 'order',
      start: 'created',
      states: {
        created: { callback: { to: ['paid', 'cancelled'] }, timeout: { after: '30m', to: 'cancelled' } },
        paid: { http: { url: 'http://127.0.0.1:9000/ship', to: ['shipped', 'failed'] } },
        shipped: {},
        cancelled: {},
        failed: {},
      },
    });
    expect(parseDefinition(json, 'json').graph).toEqual(parseDefinition(ORDER_YAML).graph);
    expect(parseDefinition(json).graph).toEqual(parseDefinition(ORDER_YAML).graph);
  });

  it('compiles action, command, parallel, retry and pauseAfterErrCount', () => {
    const { graph } = parseDefinition(`
name: pay
start: charge
states:
  charge:
    action: { name: billing.charge, input: { amount: "{{ object.total }}", run: "{{ run.id }}" }, on: { ok: ship, error: refund } }
    parallel: 5
    retry: { attempts: 3, backoff: 2s }
    pauseAfterErrCount: 4
  ship:
    command: { argv: [ship, --order, "{{ object.id }}"], to: [done] }
  refund:
    action: { name: billing.refund, on: { ok: done } }
    retry: { attempts: 2 }
  done:
`);
    const charge = stateOf(graph, 'charge')!;
    expect(charge.work).toEqual({
      kind: 'action',
      action: { name: 'billing.charge', input: { amount: '{{ object.total }}', run: '{{ run.id }}' } },
      ok: 'ship',
      error: 'refund',
    });
    expect(charge.parallel).toBe(5);
    expect(charge.retry).toEqual({ attempts: 3, backoffMs: 2000 });
    expect(charge.pauseAfterErrCount).toBe(4);
    expect(stateOf(graph, 'refund')!.retry).toEqual({ attempts: 2, backoffMs: 1000 });
    expect(stateOf(graph, 'ship')!.work).toMatchObject({ kind: 'command', argv: ['ship', '--order', '{{ object.id }}'], to: ['done'] });
    // `done:` with no value is an empty, terminal state.
    expect(graph.terminals).toEqual(['done']);
    expect(graph.edges).toContainEqual({ from: 'charge', to: 'refund', kind: 'action-error' });
  });

  it('rejects unknown keys anywhere, naming them', () => {
    const issues = issuesOf(() => parseDefinition(sm({ a: { callback: { to: ['b'], also: 1 }, colour: 'red' }, b: {} }, { owner: 'x' })));
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'owner', message: 'unknown field' },
        { path: 'states.a.colour', message: 'unknown field' },
        { path: 'states.a.callback.also', message: 'unknown field' },
      ]),
    );
  });

  it('rejects bad status names, bad shard counts and unsafe keys', () => {
    const bad = issuesOf(() => parseDefinition(sm({ a: { http: { url: 'http://x/', to: ['B'] }, parallel: 65 }, B: {} })));
    expect(bad.map((i) => i.path)).toEqual(expect.arrayContaining(['states.B', 'states.a.http.to.0', 'states.a.parallel']));
    const unsafe = issuesOf(() => parseDefinition('{"name":"wf","start":"a","states":{"a":{},"constructor":{},"__proto__":{}}}', 'json'));
    expect(unsafe).toEqual(
      expect.arrayContaining([
        { path: 'states.constructor', message: "the key 'constructor' is not allowed" },
        { path: 'states.__proto__', message: "the key '__proto__' is not allowed" },
      ]),
    );
  });

  it('reports every graph problem at once, each naming its state', () => {
    const issues = issuesOf(() =>
      parseDefinition(
        sm(
          {
            a: { callback: { to: ['b', 'nowhere'] }, timeout: { after: '5m', to: 'gone' } },
            b: { http: { url: 'http://127.0.0.1/x', to: ['a', 'missing'] } },
            c: { action: { name: 'x.y', on: { ok: 'a', error: 'nope' } } },
            d: {},
          },
          { start: 'a' },
        ),
      ),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'states.a.callback.to.1', message: expect.stringContaining("'nowhere' names no state") },
        { path: 'states.a.timeout.to', message: expect.stringContaining("'gone' names no state") },
        { path: 'states.b.http.to.1', message: expect.stringContaining("'missing' names no state") },
        { path: 'states.c.action.on.error', message: expect.stringContaining("'nope' names no state") },
        { path: 'states.c', message: "state 'c' is unreachable from start 'a'" },
        { path: 'states.d', message: "state 'd' is unreachable from start 'a'" },
        { path: 'states.a', message: "no terminal state can be reached from 'a', so a run there could never complete" },
      ]),
    );
  });

  it('names an unknown start', () => {
    const issues = issuesOf(() => parseDefinition(sm({ a: {} }, { start: 'begin' })));
    expect(issues).toEqual([{ path: 'start', message: "start 'begin' names no state (states: a)" }]);
  });

  it('requires a terminal state', () => {
    const issues = issuesOf(() => parseDefinition(sm({ a: { callback: { to: ['b'] } }, b: { timeout: { after: '1h', to: 'a' } } })));
    expect(issues).toEqual([{ path: 'states', message: expect.stringContaining('no terminal state') }]);
  });

  it('checks durations, work combinations, tuning without work and duplicates', () => {
    const issues = issuesOf(() =>
      parseDefinition(
        sm({
          a: {
            http: { url: 'ftp://x/', to: ['b', 'b'] },
            action: { name: 'x.y', on: { ok: 'b' } },
            timeout: { after: '30 minutes', to: 'b' },
            retry: { attempts: 2, backoff: '1w' },
          },
          b: { callback: { to: ['c'] }, parallel: 2 },
          c: {},
        }),
      ),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'states.a', message: 'a state has at most one of http, action or command (found http, action)' },
        { path: 'states.a.http.url', message: expect.stringContaining('http:// or https://') },
        { path: 'states.a.http.to.1', message: "'b' is listed twice" },
        { path: 'states.a.timeout.after', message: expect.stringContaining("'30 minutes' is not a duration") },
        { path: 'states.a.retry.backoff', message: expect.stringContaining("'1w' is not a duration") },
        { path: 'states.b.parallel', message: 'parallel applies only to a state with http, action or command' },
      ]),
    );
    expect(issues).toHaveLength(6);
  });

  it('checks templates: only object and run exist in a state machine', () => {
    const issues = issuesOf(() =>
      parseDefinition(
        sm({
          a: {
            action: { name: 'x.y', input: { ok: '{{ object.id }}', bad: ['{{ steps.s.output }}', 'hi {{ input.x }}', '{{ run.nope }}', '{{ object.a'] }, on: { ok: 'b' } },
          },
          b: {},
        }),
      ),
    );
    expect(issues.map((i) => i.path)).toEqual([
      'states.a.action.input.bad.3',
      'states.a.action.input.bad.0',
      'states.a.action.input.bad.1',
      'states.a.action.input.bad.2',
    ]);
    expect(issues[0]!.message).toContain("'{{' is not closed");
    expect(issues[1]!.message).toContain("a state machine has no 'steps'");
  });

  it('turns YAML syntax errors and duplicate keys into Invalid with line numbers', () => {
    const syntax = issuesOf(() => parseDefinition('name: x\nstart: a\nstates:\n  a: { callback: { to: [b }\n'));
    expect(syntax[0]!.message).toMatch(/^line 4, column \d+: /);
    const dup = issuesOf(() => parseDefinition('name: x\nstart: a\nstart: b\nstates: {}\n'));
    expect(dup).toEqual([{ path: '(root)', message: expect.stringMatching(/^line 3, column 1: Map keys must be unique/) }]);
    const json = issuesOf(() => parseDefinition('{"name": "x",\n "states": {,}}', 'json'));
    expect(json[0]!.message).toMatch(/^invalid JSON at line 2/);
  });

  it('rejects documents of the wrong shape, too large, or full of aliases', () => {
    expect(issuesOf(() => parseDefinition('- a\n- b\n'))[0]!.message).toContain('a definition is a mapping');
    expect(issuesOf(() => parseDefinition('name: x\n'))[0]!.message).toContain('needs states');
    expect(issuesOf(() => parseDefinition('name: x\nstates: {}\nsteps: []\n'))[0]!.message).toContain('not both');
    expect(issuesOf(() => parseDefinition('   \n'))[0]!.message).toContain('empty');
    expect(issuesOf(() => parseDefinition(`name: x\n# ${'a'.repeat(300_000)}\n`))[0]!.message).toContain('longer than');
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 9 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`)].join('\n');
    expect(issuesOf(() => parseDefinition(`${bomb}\nname: x\nstates: {}\n`))[0]!.message).toMatch(/alias/i);
    expect(issuesOf(() => parseDefinition(`${'['.repeat(5000)}${']'.repeat(5000)}`)).length).toBeGreaterThan(0);
  });

  it('validates onComplete', () => {
    const ok = parseDefinition(sm({ a: {} }, { onComplete: { http: { url: 'http://127.0.0.1/done/{{ run.id }}' } } }));
    expect(ok.graph.onComplete).toEqual({ kind: 'http', http: { url: 'http://127.0.0.1/done/{{ run.id }}', method: 'POST', headers: {}, timeoutMs: undefined } });
    const both = issuesOf(() => parseDefinition(sm({ a: {} }, { onComplete: { http: { url: 'http://x/' }, action: { name: 'a.b' } } })));
    expect(both).toEqual([{ path: 'onComplete', message: 'onComplete needs exactly one of action or http' }]);
    const badRef = issuesOf(() => parseDefinition(sm({ a: {} }, { onComplete: { action: { name: 'a.b', input: '{{ steps.x.output }}' } } })));
    expect(badRef[0]!.path).toBe('onComplete.action.input');
  });
});

describe('Mermaid output of a state machine', () => {
  it('draws start, every edge labeled by kind, and terminals', () => {
    const text = toMermaid(parseDefinition(ORDER_YAML).graph);
    const lines = text.trim().split('\n').map((l) => l.trim());
    expect(lines[0]).toBe('stateDiagram-v2');
    expect(lines[1]).toBe('[*] --> created');
    expect(lines).toContain('created --> paid: callback');
    expect(lines).toContain('created --> cancelled: callback');
    expect(lines).toContain('created --> cancelled: timeout 30m');
    expect(lines).toContain('paid --> shipped: http');
    expect(lines).toContain('paid --> failed: http');
    for (const t of ['shipped', 'cancelled', 'failed']) expect(lines).toContain(`${t} --> [*]`);
    expect(lines.filter((l) => l.endsWith('--> [*]'))).toHaveLength(3);
    expect(lines).toHaveLength(10);
  });

  it('labels action edges and aliases names Mermaid cannot take as ids', () => {
    const { graph } = parseDefinition(
      sm(
        { 'order-placed': { action: { name: 'x.y', on: { ok: 'default', error: 'order_placed' } } }, default: {}, order_placed: {} },
        { start: 'order-placed' },
      ),
    );
    const lines = toMermaid(graph).trim().split('\n').map((l) => l.trim());
    expect(lines).toContain('state "order-placed" as s_order_placed');
    expect(lines).toContain('state "default" as s_default');
    expect(lines).toContain('[*] --> s_order_placed');
    expect(lines).toContain('s_order_placed --> s_default: action ok');
    expect(lines).toContain('s_order_placed --> order_placed: action error');
    expect(lines).toContain('order_placed --> [*]');
  });
});
