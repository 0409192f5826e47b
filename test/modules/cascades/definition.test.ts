/** Cascade definitions: a good one parses with defaults; each kind of mistake is refused naming its field. */
import { describe, expect, it } from 'vitest';
import { Invalid } from '../../../src/kernel/index.ts';
import { checkDefinition, checkInputs, parseDefinition } from '../../../src/modules/cascades/model/parse-definition.ts';
import { runValidator } from '../../../src/modules/cascades/model/validators.ts';

const GOOD = `
cascade_id: blog
inputs_schema: { topic: { type: string } }
model: gpt-4o-mini
phases:
  - name: research
    instructions: "Research {{ input.topic }}"
    tools: [http_get, set_state]
    max_turns: 3
    handoffs: [draft]
  - name: draft
    context: { from: [research] }
    instructions: "Write about {{ input.topic }} using {{ state.notes }}"
    soundings: { factor: 3, max_parallel: 3, evaluator: "Pick the most engaging", prefilter: json_ok }
    wards: { pre: [{ validator: no_pii, mode: blocking }], post: [{ validator: has_title, mode: retry, max_attempts: 3 }, { validator: non_empty, mode: advisory }] }
    output_schema: { type: object, required: [title, body], properties: { title: { type: string }, body: { type: string } } }
    loop_until: has_title
  - name: review
    human_input: { prompt: "Approve {{ outputs.draft.title }}?", timeout: 1h, on_timeout: continue }
`;

/** The issues of the Invalid that `fn` throws. */
function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Invalid);
    return (err as Invalid).issues;
  }
  throw new Error('expected Invalid');
}

describe('cascade definitions', () => {
  it('parses a full definition and fills defaults', () => {
    const def = parseDefinition(GOOD);
    expect(def.cascade_id).toBe('blog');
    expect(def.phases.map((p) => p.name)).toEqual(['research', 'draft', 'review']);
    expect(def.phases[1]!.soundings!.factor).toBe(3);
    expect(def.phases[2]!.human_input!.on_timeout).toBe('continue');
    expect(def.phases[2]!.max_turns).toBe(5);
    expect(def.inputs_schema.topic!.required).toBe(true);
  });

  it('accepts data phases, sub-cascade tools, async_cascades and cascade validators', () => {
    const def = checkDefinition({
      cascade_id: 'data',
      model: 'm',
      phases: [
        { name: 'seed', sql: "select * from (values (1, 'a')) as t(id, name);" },
        { name: 'per_row', for_each_row: { table: '_seed', cascade: 'child', inputs: { id: '{{ row.id }}' } } },
        { name: 'ask', instructions: 'x', tools: ['sql', 'run_cascade'], async_cascades: [{ cascade: 'audit', inputs: { n: '{{ outputs.per_row }}' } }], wards: { post: [{ validator: { cascade: 'judge' }, mode: 'retry' }] } },
      ],
    });
    expect(def.phases[1]!.for_each_row).toEqual({ table: '_seed', cascade: 'child', inputs: { id: '{{ row.id }}' }, max_parallel: 5 });
    expect(def.phases[2]!.async_cascades[0]!.trigger).toBe('on_end');
  });

  it('parses the same definition sent as JSON', () => {
    const def = parseDefinition(JSON.stringify({ cascade_id: 'x', model: 'm', phases: [{ name: 'a', instructions: 'hi' }] }), 'json');
    expect(def.phases[0]!.tools).toEqual([]);
  });

  it.each([
    ['missing cascade_id', { model: 'm', phases: [{ name: 'a', instructions: 'x' }] }, 'cascade_id'],
    ['no phases', { cascade_id: 'c', model: 'm', phases: [] }, 'phases'],
    ['unknown phase field', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', instructions: 'x', turns: 3 }] }, 'phases.0.turns'],
    ['unknown tool', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', instructions: 'x', tools: ['rm_rf'] }] }, 'phases.0.tools.0'],
    ['handoff to nowhere', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', instructions: 'x', handoffs: ['b'] }] }, 'phases.0.handoffs.0'],
    ['context from nowhere', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', instructions: 'x', context: { from: ['zz'] } }] }, 'phases.0.context.from.0'],
    ['duplicate phase', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', instructions: 'x' }, { name: 'a', instructions: 'y' }] }, 'phases.1.name'],
    ['no model anywhere', { cascade_id: 'c', phases: [{ name: 'a', instructions: 'x' }] }, 'phases.0.model'],
    ['no instructions', { cascade_id: 'c', model: 'm', phases: [{ name: 'a' }] }, 'phases.0.instructions'],
    ['undeclared input', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', instructions: '{{ input.nope }}' }] }, 'phases.0.instructions'],
    ['unknown template root', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', instructions: '{{ env.HOME }}' }] }, 'phases.0.instructions'],
    ['unknown validator', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', instructions: 'x', wards: { post: [{ validator: 'magic', mode: 'retry' }] } }] }, 'phases.0.wards.post.0.validator'],
    ['bad ward mode', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', instructions: 'x', wards: { post: [{ validator: 'no_pii', mode: 'sometimes' }] } }] }, 'phases.0.wards.post.0.mode'],
    ['route_to with one handoff', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', instructions: 'x', tools: ['route_to'], handoffs: ['b'] }, { name: 'b', instructions: 'y' }] }, 'phases.0.tools'],
    ['sql that writes', { cascade_id: 'c', phases: [{ name: 'a', sql: 'with x as (delete from _b returning 1) select * from x' }] }, 'phases.0.sql'],
    ['sql that changes its role', { cascade_id: 'c', phases: [{ name: 'a', sql: "select set_config('role', 'postgres', false)" }] }, 'phases.0.sql'],
    ['two statements of sql', { cascade_id: 'c', phases: [{ name: 'a', sql: 'select 1; select 2' }] }, 'phases.0.sql'],
    ['sql phase with instructions', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', sql: 'select 1', instructions: 'x' }] }, 'phases.0.sql'],
    ['sql and human_input in one phase', { cascade_id: 'c', phases: [{ name: 'a', sql: 'select 1', human_input: { prompt: 'ok?' } }] }, 'phases.0.sql'],
    ['for_each_row over a table no phase makes', { cascade_id: 'c', phases: [{ name: 'a', for_each_row: { table: '_zz', cascade: 'child' } }] }, 'phases.0.for_each_row.table'],
    ['for_each_row table that is not a name', { cascade_id: 'c', phases: [{ name: 'a', sql: 'select 1' }, { name: 'b', for_each_row: { table: 'a', cascade: 'child' } }] }, 'phases.1.for_each_row.table'],
    ['for_each_row without a cascade', { cascade_id: 'c', phases: [{ name: 'a', sql: 'select 1' }, { name: 'b', for_each_row: { table: '_a' } }] }, 'phases.1.for_each_row.cascade'],
    ['for_each_row max_parallel 0', { cascade_id: 'c', phases: [{ name: 'a', sql: 'select 1' }, { name: 'b', for_each_row: { table: '_a', cascade: 'k', max_parallel: 0 } }] }, 'phases.1.for_each_row.max_parallel'],
    ['for_each_row input template root', { cascade_id: 'c', phases: [{ name: 'a', sql: 'select 1' }, { name: 'b', for_each_row: { table: '_a', cascade: 'k', inputs: { x: '{{ env.HOME }}' } } }] }, 'phases.1.for_each_row.inputs.x'],
    ['async_cascades trigger', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', instructions: 'x', async_cascades: [{ cascade: 'k', trigger: 'later' }] }] }, 'phases.0.async_cascades.0.trigger'],
    ['ask_human in a soundings phase', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', instructions: 'x', tools: ['set_state', 'ask_human'], soundings: { factor: 2, evaluator: 'e' } }] }, 'phases.0.tools.1'],
    ['browser in a soundings phase', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', instructions: 'x', tools: ['browser'], soundings: { factor: 2, evaluator: 'e' } }] }, 'phases.0.tools.0'],
    ['bad allow_hosts entry', { cascade_id: 'c', model: 'm', allow_hosts: ['api.example.com', 'not a host!!'], phases: [{ name: 'a', instructions: 'x' }] }, 'allow_hosts.1'],
    ['reforge rounds out of range', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', instructions: 'x', soundings: { factor: 2, evaluator: 'e', reforge: { rounds: 9 } } }] }, 'phases.0.soundings.reforge.rounds'],
    ['empty mutate list', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', instructions: 'x', soundings: { factor: 2, evaluator: 'e', mutate: [] } }] }, 'phases.0.soundings.mutate'],
    ['bad duration', { cascade_id: 'c', model: 'm', phases: [{ name: 'a', human_input: { prompt: 'ok?', timeout: 'soon' } }] }, 'phases.0.human_input.timeout'],
  ])('refuses %s', (_what, doc, path) => {
    const issues = issuesOf(() => parseDefinition(JSON.stringify(doc), 'json'));
    expect(issues.map((i) => i.path)).toContain(path);
  });

  it('says why each tool is refused in a soundings phase', () => {
    const doc = { cascade_id: 'c', model: 'm', phases: [{ name: 'a', instructions: 'x', tools: ['ask_human', 'run_cascade', 'browser'], soundings: { factor: 2, evaluator: 'e' } }] };
    // run_cascade is allowed: each attempt waits for its own child sessions in the worker.
    const issues = issuesOf(() => parseDefinition(JSON.stringify(doc), 'json'));
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(byPath['phases.0.tools.0']).toMatch(/^ask_human cannot be used with soundings: .*one person would get the same question from each attempt/);
    expect(byPath['phases.0.tools.1']).toBeUndefined();
    expect(byPath['phases.0.tools.2']).toMatch(/^browser cannot be used with soundings \(not built\): a session has one browser context/);
  });

  it('accepts soundings with tools, and cascade validators in pre wards, loop_until and soundings phases', () => {
    const def = checkDefinition({
      cascade_id: 'c',
      model: 'm',
      phases: [
        { name: 'a', instructions: 'x', tools: ['set_state', 'http_get', 'sql', 'route_to', 'run_cascade'], handoffs: ['b', 'c'], soundings: { factor: 2, evaluator: 'e' }, wards: { pre: [{ validator: { cascade: 'judge' }, mode: 'blocking' }], post: [{ validator: { cascade: 'judge' }, mode: 'retry' }] }, loop_until: { cascade: 'judge' } },
        { name: 'b', instructions: 'y', wards: { pre: [{ validator: { cascade: 'judge' }, mode: 'advisory' }] }, loop_until: { cascade: 'judge' } },
        { name: 'c', instructions: 'z' },
      ],
    });
    expect(def.phases[0]!.tools).toEqual(['set_state', 'http_get', 'sql', 'route_to', 'run_cascade']);
    expect(def.phases[1]!.loop_until).toEqual({ cascade: 'judge' });
  });

  it('names the line of a YAML syntax error', () => {
    const issues = issuesOf(() => parseDefinition('cascade_id: x\nphases: [\n'));
    expect(issues[0]!.message).toMatch(/line \d+/);
  });

  it('checks run inputs against inputs_schema', () => {
    const def = parseDefinition(GOOD);
    expect(checkInputs(def, { topic: 'tides' })).toEqual({ topic: 'tides' });
    expect(issuesOf(() => checkInputs(def, {})).map((i) => i.path)).toEqual(['inputs.topic']);
    expect(issuesOf(() => checkInputs(def, { topic: 3 }))[0]).toEqual({ path: 'inputs.topic', message: 'expected string' });
    expect(issuesOf(() => checkInputs(def, { topic: 'a', extra: 1 })).map((i) => i.path)).toEqual(['inputs.extra']);
  });

  it('runs registered and JSON-schema validators', () => {
    expect(runValidator('no_pii', 'mail me at a@b.io').valid).toBe(false);
    expect(runValidator('no_pii', 'call 555-123-4567').valid).toBe(false);
    expect(runValidator('no_pii', 'in 2024 the tide rose').valid).toBe(true);
    expect(runValidator('has_title', { title: 'T', body: 'b' }).valid).toBe(true);
    expect(runValidator('has_title', { body: 'b' })).toEqual({ valid: false, reason: 'the output has no title' });
    const v = runValidator({ json_schema: { type: 'object', required: ['n'], properties: { n: { type: 'number' } } } }, { n: 'x' });
    expect(v.valid).toBe(false);
    expect(v.reason).toMatch(/n/);
  });
});
