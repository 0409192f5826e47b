/** The workflow console's diagrams: graph input from definitions, the run's path, DAG step states, escaping. */
import { describe, expect, it } from 'vitest';
import { parseDefinition, toMermaid } from '../../src/modules/workflow/definition/index.ts';
import type { HistoryEntry } from '../../src/modules/workflow/store/index.ts';
import { viewOf } from '../../src/modules/workflow/ui/definition-view.ts';
import { DefinitionsPage } from '../../src/modules/workflow/ui/definitions-page.tsx';
import { dagInput, START_NODE, stateMachineInput } from '../../src/modules/workflow/ui/diagram-input.ts';
import { WorkflowDiagram } from '../../src/modules/workflow/ui/diagram.tsx';
import { dagStepStates } from '../../src/modules/workflow/ui/step-states.ts';

const ORDER = parseDefinition(`name: order
start: created
states:
  created:  { callback: { to: [paid, cancelled] }, timeout: { after: 30m, to: cancelled } }
  paid:     { http: { url: "http://127.0.0.1:9000/ship", to: [shipped, failed, created] } }
  shipped:  {}
  cancelled: {}
  failed: { description: "<script>alert(1)</script>" }
`).graph;

const REPORT = parseDefinition(
  JSON.stringify({
    name: 'report',
    steps: [
      { id: 'fetch', http: { url: 'http://127.0.0.1:9000/f' } },
      { id: 'parse', needs: ['fetch'], action: 'mathx.add' },
      { id: 'extra', needs: ['fetch'], when: 'input.more == true', action: 'mathx.add' },
      { id: 'score', needs: ['parse'], action: 'mathx.add' },
      { id: 'publish', needs: ['score', 'extra'], action: 'mathx.add' },
    ],
  }),
  'json',
).graph;

/** History rows with just the statuses (what the diagram reads). */
const history = (...statuses: string[]): HistoryEntry[] =>
  statuses.map((status, i) => ({ id: i + 1, runId: 'r', version: i + 1, status, runState: 'running', statusDescription: null, reason: null, object: null, createdAt: new Date(0) }));

/** `from->to` of the edges with a class. */
const edgesWith = (input: ReturnType<typeof stateMachineInput>, cls: string) => input.edges.filter((e) => e.className?.split(' ').includes(cls)).map((e) => `${e.from}->${e.to}`);

describe('state machine diagram input', () => {
  it('draws a start marker, every status, terminals as double boxes, and one labelled edge per pair of statuses', () => {
    const input = stateMachineInput(ORDER);
    expect(input.nodes.map((n) => n.id)).toEqual([START_NODE, 'created', 'paid', 'shipped', 'cancelled', 'failed']);
    expect(input.nodes.filter((n) => n.shape === 'double').map((n) => n.id)).toEqual(['shipped', 'cancelled', 'failed']);
    expect(input.nodes.find((n) => n.id === 'paid')?.sublabel).toBe('http POST');
    // created -> cancelled is both a callback and a timeout: one edge, both labels.
    const toCancelled = input.edges.filter((e) => e.from === 'created' && e.to === 'cancelled');
    expect(toCancelled).toHaveLength(1);
    expect(toCancelled[0]!.label).toBe('callback, timeout 30m');
    expect(input.edges.map((e) => `${e.from}->${e.to}`).sort()).toEqual(
      [`${START_NODE}->created`, 'created->paid', 'created->cancelled', 'paid->shipped', 'paid->failed', 'paid->created'].sort(),
    );
    expect(input.nodes.some((n) => n.className?.includes('current'))).toBe(false);
  });

  it("marks a run's path, its visited statuses and its current status with the run state", () => {
    // Repeated statuses (a pause and resume at 'paid') are not transitions.
    const input = stateMachineInput(ORDER, { statuses: ['created', 'paid', 'paid', 'created', 'paid'], current: 'paid', runState: 'paused' });
    expect(edgesWith(input, 'taken').sort()).toEqual([`${START_NODE}->created`, 'created->paid', 'paid->created'].sort());
    const cls = (id: string) => input.nodes.find((n) => n.id === id)!.className!.split(' ').filter(Boolean);
    expect(cls('paid')).toEqual(expect.arrayContaining(['current', 'run-paused', 'visited']));
    expect(cls('created')).toEqual(expect.arrayContaining(['visited']));
    expect(cls('created')).not.toContain('current');
    expect(cls('shipped')).not.toContain('visited');
    expect(cls(START_NODE)).toContain('visited');
  });

  it('ignores history statuses the current definition does not have', () => {
    const input = stateMachineInput(ORDER, { statuses: ['created', 'gone', 'paid'], current: 'paid', runState: 'running' });
    expect(edgesWith(input, 'taken')).toEqual([`${START_NODE}->created`]);
  });
});

describe('DAG diagram input and step states', () => {
  it('draws each step with its call and an edge per need; conditional steps are marked', () => {
    const input = dagInput(REPORT);
    expect(input.nodes.map((n) => n.id)).toEqual(['fetch', 'parse', 'extra', 'score', 'publish']);
    expect(input.nodes[0]!.sublabel).toBe('http POST');
    expect(input.nodes[1]!.sublabel).toBe('action mathx.add');
    expect(input.nodes.find((n) => n.id === 'extra')!.className).toContain('conditional');
    expect(input.edges.map((e) => `${e.from}->${e.to}`).sort()).toEqual(['fetch->parse', 'fetch->extra', 'parse->score', 'score->publish', 'extra->publish'].sort());
  });

  it('reads done, failed and skipped from the run object, running from the current stage, pending elsewhere', () => {
    const object = { input: {}, steps: { fetch: { status: 'completed' }, extra: { status: 'skipped' } } };
    // parse and extra are stage 2; parse has no result yet.
    expect(dagStepStates(REPORT, { status: 'stage-2', runState: 'running', object })).toEqual({ fetch: 'done', parse: 'running', extra: 'skipped', score: 'pending', publish: 'pending' });
    // Before the stage saves anything, a step whose condition is false shows as skipped already: the runtime decided so.
    const started = { input: { more: false }, steps: { fetch: { status: 'completed' } } };
    expect(dagStepStates(REPORT, { status: 'stage-2', runState: 'running', object: started })).toMatchObject({ parse: 'running', extra: 'skipped' });
    expect(dagStepStates(REPORT, { status: 'stage-2', runState: 'running', object: { ...started, input: { more: true } } })).toMatchObject({ parse: 'running', extra: 'running' });
    // A paused run runs nothing.
    expect(dagStepStates(REPORT, { status: 'stage-2', runState: 'paused', object }).parse).toBe('pending');
    const failed = { input: {}, steps: { fetch: { status: 'completed' }, parse: { status: 'failed', error: 'boom' }, extra: { status: 'skipped' } } };
    expect(dagStepStates(REPORT, { status: 'failed', runState: 'completed', object: failed })).toEqual({ fetch: 'done', parse: 'failed', extra: 'skipped', score: 'pending', publish: 'pending' });
  });

  it('treats a malformed or scrubbed object as no results', () => {
    for (const object of [null, 'x', { steps: null }, { steps: [] }, { steps: { fetch: 'completed' } }, { steps: { fetch: { status: 'weird' } } }, JSON.parse('{"steps":{"__proto__":{"status":"completed"}}}')]) {
      expect(dagStepStates(REPORT, { status: 'stage-1', runState: 'running', object }).fetch).toBe('running');
    }
  });
});

describe('rendered diagrams', () => {
  it("draws an SVG node per status with the run's current status highlighted, and keeps the Mermaid source", () => {
    const html = String(WorkflowDiagram({ graph: ORDER, mermaid: toMermaid(ORDER), run: { status: 'paid', runState: 'running', object: {}, history: history('created', 'paid') }, id: 'diagram', live: true }));
    for (const s of ['created', 'paid', 'shipped', 'cancelled', 'failed']) expect(html).toContain(`data-node="${s}"`);
    expect(html).toMatch(/class="graph-node box wf-status visited current run-running" data-node="paid"/);
    expect(html.match(/class="graph-edge[^"]* taken"/g)).toHaveLength(2);
    expect(html).toContain('created --&gt; paid');
    // A state's description is user input: it reaches the tooltip escaped.
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('id="diagram" data-live=""');
  });

  it('lists definitions with version, run counts and diagram; one that no longer compiles is shown as an error', () => {
    const now = new Date('2025-01-02T03:04:05Z');
    const good = viewOf({ name: 'order', kind: 'state-machine', spec: parseDefinition(`name: order\nstart: a\nstates:\n  a: { callback: { to: [b] } }\n  b: {}\n`).definition, version: 3, createdAt: now, updatedAt: now });
    const broken = viewOf({ name: 'old', kind: 'state-machine', spec: { name: 'old', start: 'x', states: {} }, version: 1, createdAt: now, updatedAt: now });
    const counts = { initiated: 0, running: 2, paused: 1, cancelled: 0, completed: 4, dataDeleted: 0, requestedDataDeleted: 0 };
    const html = String(DefinitionsPage({ entries: [{ view: good, counts }, { view: broken, counts: { ...counts, running: 0, paused: 0, completed: 0 } }] }));
    expect(html).toContain('id="def-order"');
    expect(html).toContain('v3');
    expect(html).toMatch(/<b class="def-total">7<\/b> runs/);
    expect(html).toContain('href="/ui/workflow?workflow=order&amp;runState=running"');
    expect(html).toContain('data-node="a"');
    expect(html).toMatch(/Cannot draw this definition: .+/);
    expect(html).toMatch(/<b class="def-total">0<\/b> runs/);
  });
});
