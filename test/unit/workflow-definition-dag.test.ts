/** Workflow definitions in DAG form: compile onto stages, validation issues, runtime planning and Mermaid. */
import { describe, expect, it } from 'vitest';
import { Invalid } from '../../src/kernel/index.ts';
import {
  allowedNext,
  initialDagObject,
  expressions,
  dagScope,
  parseDefinition,
  planDagStage,
  stateOf,
  toMermaid,
  type DagRunObject,
} from '../../src/modules/workflow/definition/index.ts';
import { issuesOf } from '../helpers/issues-of.ts';

/** A DAG in JSON from its steps. */
function dag(steps: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ name: 'flow', steps, ...extra });
}

// fetch fans out to summarize and translate (translate only in some languages); publish fans in.
const FAN_YAML = `
name: report
input:
  type: object
  required: [url]
  properties:
    url: { type: string }
    lang: { type: string, enum: [en, fr, de] }
steps:
  - id: fetch
    http: { url: "http://127.0.0.1:9000/fetch", method: POST }
    input: { url: "{{ input.url }}" }
    retry: { attempts: 3, backoff: 500ms }
    timeout: 30s
  - id: summarize
    needs: [fetch]
    action: { name: cascades.run, input: { text: "{{ steps.fetch.output.body }}" } }
  - id: translate
    needs: [fetch]
    action: agents.run
    input: { text: "{{ steps.fetch.output.body }}", to: "{{ input.lang }}" }
    when: "input.lang != null && input.lang != 'en'"
  - id: publish
    needs: [summarize, translate]
    action: cms.publish
    input:
      summary: "{{ steps.summarize.output }}"
      title: "Report for {{ input.url }} ({{ steps.translate.status }})"
`;

describe('DAG definitions', () => {
  it('compiles fan-out and fan-in onto stage statuses of one graph', () => {
    const { kind, graph } = parseDefinition(FAN_YAML);
    expect(kind).toBe('dag');
    expect(graph.kind).toBe('dag');
    expect(graph.start).toBe('stage-1');
    expect(Object.keys(graph.states)).toEqual(['stage-1', 'stage-2', 'stage-3', 'completed', 'failed']);
    expect(graph.terminals).toEqual(['completed', 'failed']);
    expect(graph.dag!.stages).toEqual([['fetch'], ['summarize', 'translate'], ['publish']]);
    expect(graph.dag!.order).toEqual(['fetch', 'summarize', 'translate', 'publish']);
    expect(stateOf(graph, 'stage-2')!.work).toEqual({ kind: 'dag-stage', stage: 2, steps: ['summarize', 'translate'], ok: 'stage-3', error: 'failed' });
    expect(allowedNext(graph, 'stage-3')).toEqual(['completed', 'failed']);
    const fetch = graph.dag!.steps.fetch!;
    expect(fetch.call).toEqual({ kind: 'http', http: { url: 'http://127.0.0.1:9000/fetch', method: 'POST', headers: {} } });
    expect(fetch.retry).toEqual({ attempts: 3, backoffMs: 500 });
    expect(fetch.timeoutMs).toBe(30_000);
    expect(fetch.status).toBe('stage-1');
    const publish = graph.dag!.steps.publish!;
    expect(publish.needs).toEqual(['summarize', 'translate']);
    expect(publish.ancestors).toEqual(['fetch', 'summarize', 'translate']);
    expect(publish.stage).toBe(3);
    expect(graph.dag!.steps.summarize!.call).toEqual({ kind: 'action', name: 'cascades.run' });
    expect(graph.dag!.steps.summarize!.input).toEqual({ text: '{{ steps.fetch.output.body }}' });
    expect(graph.dag!.steps.translate!.when?.source).toBe("input.lang != null && input.lang != 'en'");
  });

  it('puts a step after the latest of its needs, whatever the declaration order', () => {
    const { graph } = parseDefinition(
      dag([
        { id: 'd', needs: ['b', 'c'], action: 'x.d' },
        { id: 'c', needs: ['a'], action: 'x.c' },
        { id: 'b', needs: ['c'], action: 'x.b' },
        { id: 'a', action: 'x.a' },
        { id: 'e', action: 'x.e' },
      ]),
    );
    expect(graph.dag!.stages).toEqual([['a', 'e'], ['c'], ['b'], ['d']]);
    expect(graph.dag!.order).toEqual(['a', 'e', 'c', 'b', 'd']);
  });

  it('names cycles step by step and reports them with every other issue', () => {
    const issues = issuesOf(() =>
      parseDefinition(
        dag([
          { id: 'a', needs: ['c'], action: 'x.a' },
          { id: 'b', needs: ['a'], action: 'x.b' },
          { id: 'c', needs: ['b'], action: 'x.c' },
          { id: 'd', needs: ['d', 'ghost'], action: 'x.d' },
          { id: 'e', needs: ['f'], action: 'x.e' },
          { id: 'f', needs: ['e'], action: 'x.f' },
        ]),
      ),
    );
    expect(issues).toEqual([
      { path: 'steps.3.needs.0', message: "step 'd' needs itself" },
      { path: 'steps.3.needs.1', message: "'ghost' names no step" },
      { path: 'steps.0.needs', message: 'steps form a cycle: a -> c -> b -> a (each needs the next)' },
      { path: 'steps.4.needs', message: 'steps form a cycle: e -> f -> e (each needs the next)' },
    ]);
  });

  it('reports duplicate ids, bad needs, call kinds and unusable paths, each with its step position', () => {
    const issues = issuesOf(() =>
      parseDefinition(
        dag(
          [
            { id: 'a', action: 'x.a' },
            { id: 'a', action: 'x.a2' },
            { id: 'b', needs: ['a', 'a', 'nope'], action: 'x.b', http: { url: 'http://127.0.0.1/' } },
            { id: 'c', input: { x: '{{ steps.zz.output }}', y: '{{ steps.d.output }}', z: '{{ input.missing }}', w: '{{ object.q }}' } },
            { id: 'd', needs: ['c'], action: { name: 'x.d', input: { q: 1 } }, input: { q: 2 }, when: 'steps.c.output.ok = true', timeout: '0s' },
            { id: 'e', http: { url: 'http://127.0.0.1/{{ steps.c.status }}', method: 'GET' }, input: {}, retry: { attempts: 2, backoff: 'soon' } },
          ],
          { input: { type: 'object', properties: { url: { type: 'string' } } } },
        ),
      ),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        { path: 'steps.1.id', message: "duplicate step id 'a' (also steps.0)" },
        { path: 'steps.2.needs.1', message: "'a' is listed twice" },
        { path: 'steps.2.needs.2', message: "'nope' names no step" },
        { path: 'steps.2', message: "step 'b' needs exactly one of action or http" },
        { path: 'steps.3', message: "step 'c' needs exactly one of action or http" },
        { path: 'steps.3.input.x', message: "'steps.zz.output' refers to an unknown step 'zz'" },
        { path: 'steps.3.input.y', message: expect.stringContaining("step 'd' is not among this step's needs") },
        { path: 'steps.3.input.z', message: "'input.missing': the input schema declares no field 'missing'" },
        { path: 'steps.3.input.w', message: expect.stringContaining("a DAG has no 'object'") },
        { path: 'steps.4.input', message: 'give the input either on the step or in action.input, not both' },
        { path: 'steps.4.when', message: "single '=': use '==' to compare (at column 19)" },
        { path: 'steps.4.timeout', message: 'a timeout must be longer than 0' },
        { path: 'steps.5.input', message: 'a GET request has no body; drop input or use POST' },
        { path: 'steps.5.http.url', message: expect.stringContaining("step 'c' is not among this step's needs") },
        { path: 'steps.5.retry.backoff', message: expect.stringContaining("'soon' is not a duration") },
      ]),
    );
    expect(issues).toHaveLength(15);
  });

  it('checks paths inside when conditions', () => {
    const issues = issuesOf(() =>
      parseDefinition(
        dag([
          { id: 'a', action: 'x.a' },
          { id: 'b', needs: ['a'], action: 'x.b', when: "steps.a.result == 1 || steps.q.status == 'completed' || steps.a.status.x" },
        ]),
      ),
    );
    expect(issues.map((i) => i.message)).toEqual([
      "'steps.a.result': use steps.a.output[.field] or steps.a.status",
      "'steps.q.status' refers to an unknown step 'q'",
      "'steps.a.status.x': steps.a.status has no fields",
    ]);
    expect(issues.every((i) => i.path === 'steps.1.when')).toBe(true);
  });

  it('rejects unknown keys and an empty step list through the schema', () => {
    expect(issuesOf(() => parseDefinition(dag([{ id: 'a', action: 'x.a', dependsOn: ['b'] }])))).toEqual([{ path: 'steps.0.dependsOn', message: 'unknown field' }]);
    expect(issuesOf(() => parseDefinition(dag([])))[0]!.path).toBe('steps');
  });
});

describe('DAG runtime planning', () => {
  const { graph } = parseDefinition(FAN_YAML);
  const run = { id: 'r1', foreignId: 'f1', workflow: 'report', status: 'stage-2' };

  it('validates the input against the declared schema', () => {
    expect(initialDagObject(graph, { url: 'http://a', lang: 'fr' })).toEqual({ input: { url: 'http://a', lang: 'fr' }, steps: {} });
    expect(issuesOf(() => initialDagObject(graph, { lang: 'es', extra: 1 }))).toEqual([
      { path: 'object.url', message: 'required' },
      { path: 'object.lang', message: 'expected one of "en", "fr", "de"' },
    ]);
    expect(issuesOf(() => initialDagObject(graph, [1]))).toEqual([{ path: 'object', message: 'expected object, got array' }]);
  });

  it('runs all ready steps of a stage, skips false conditions, and moves on once settled', () => {
    const obj: DagRunObject = { input: { url: 'http://a', lang: 'en' }, steps: {} };
    expect(planDagStage(graph, 'stage-1', obj, run)).toEqual({ skip: [], run: ['fetch'] });
    obj.steps.fetch = { status: 'completed', output: { body: 'hello' } };
    expect(planDagStage(graph, 'stage-1', obj, run)).toEqual({ skip: [], run: [], next: 'stage-2' });
    // lang is 'en': translate is skipped, summarize runs.
    expect(planDagStage(graph, 'stage-2', obj, run)).toEqual({ skip: ['translate'], run: ['summarize'] });
    obj.steps.translate = { status: 'skipped' };
    obj.steps.summarize = { status: 'completed', output: 'short' };
    expect(planDagStage(graph, 'stage-2', obj, run)).toEqual({ skip: [], run: [], next: 'stage-3' });
    // publish has no `when`, so a skipped need skips it too.
    expect(planDagStage(graph, 'stage-3', obj, run)).toEqual({ skip: ['publish'], run: [], next: 'completed' });
  });

  it('fails the run as soon as a step of the stage failed', () => {
    const obj: DagRunObject = { input: { url: 'u', lang: 'fr' }, steps: { fetch: { status: 'completed', output: {} }, summarize: { status: 'failed', error: 'boom' } } };
    expect(planDagStage(graph, 'stage-2', obj, run)).toEqual({ skip: [], run: [], next: 'failed' });
  });

  it('renders step inputs from outputs of earlier steps, keeping types', () => {
    const obj: DagRunObject = {
      input: { url: 'http://a', lang: 'fr' },
      steps: { fetch: { status: 'completed', output: { body: 'hi' } }, summarize: { status: 'completed', output: { words: 3 } }, translate: { status: 'skipped' } },
    };
    expect(expressions.interpolate(graph.dag!.steps.publish!.input, dagScope(obj, run))).toEqual({ summary: { words: 3 }, title: 'Report for http://a (skipped)' });
    expect(planDagStage(graph, 'stage-2', { ...obj, steps: { fetch: obj.steps.fetch! } }, run)).toEqual({ skip: [], run: ['summarize', 'translate'] });
  });

  it('lets a step with its own condition join branches where one was skipped', () => {
    const { graph: g } = parseDefinition(
      dag([
        { id: 'check', action: 'x.check' },
        { id: 'yes', needs: ['check'], action: 'x.yes', when: 'steps.check.output.ok' },
        { id: 'no', needs: ['check'], action: 'x.no', when: '!steps.check.output.ok' },
        { id: 'join', needs: ['yes', 'no'], action: 'x.join', when: "steps.yes.status == 'completed' || steps.no.status == 'completed'" },
      ]),
    );
    const obj: DagRunObject = { input: {}, steps: { check: { status: 'completed', output: { ok: false } } } };
    expect(planDagStage(g, 'stage-2', obj)).toEqual({ skip: ['yes'], run: ['no'] });
    obj.steps.yes = { status: 'skipped' };
    obj.steps.no = { status: 'completed', output: 1 };
    expect(planDagStage(g, 'stage-3', obj)).toEqual({ skip: [], run: ['join'] });
  });

  it('refuses to plan a status that is not a stage', () => {
    expect(() => planDagStage(graph, 'completed', { input: {}, steps: {} })).toThrow(Invalid);
    expect(() => planDagStage(graph, 'constructor', { input: {}, steps: {} })).toThrow(Invalid);
  });
});

describe('Mermaid output of a DAG', () => {
  it('draws steps, needs, conditions and ends', () => {
    const lines = toMermaid(parseDefinition(FAN_YAML).graph).trim().split('\n').map((l) => l.trim());
    expect(lines[0]).toBe('stateDiagram-v2');
    expect(lines).toContain('fetch: http POST (stage-1)');
    expect(lines).toContain('summarize: action cascades.run (stage-2)');
    expect(lines).toContain('[*] --> fetch');
    expect(lines).toContain('fetch --> summarize');
    expect(lines).toContain('fetch --> translate');
    expect(lines).toContain('summarize --> publish');
    expect(lines).toContain('translate --> publish');
    expect(lines).toContain("note right of translate: when input.lang != null && input.lang != 'en'");
    expect(lines).toContain('publish --> [*]');
    expect(lines.filter((l) => l.includes('[*]'))).toEqual(['[*] --> fetch', 'publish --> [*]']);
  });

  it('escapes characters that would break a Mermaid line', () => {
    const { graph } = parseDefinition(dag([{ id: 'a', action: 'x.a' }, { id: 'b-1', needs: ['a'], action: 'x.b', when: "steps.a.output.t == 'x:y;#'" }]));
    const lines = toMermaid(graph).trim().split('\n').map((l) => l.trim());
    expect(lines).toContain('state "b-1" as s_b_1');
    expect(lines).toContain("note right of s_b_1: when steps.a.output.t == 'x#58;y#59;#35;'");
  });
});
