/**
 * The cascades' work: a two-phase cascade, the first phase calling the `set_state` tool, run to completion by this
 * instance's worker against the fake LLM: the cascades_* series and the kernel's llm_* series get samples.
 */
import type { Workload } from './workload.ts';

const CASCADE = `
cascade_id: metrics-blog
inputs_schema: { topic: { type: string } }
model: fake/cascade
phases:
  - name: research
    instructions: "Research {{ input.topic }}; save notes with set_state."
    tools: [set_state]
    max_turns: 3
  - name: draft
    context: { from: [research] }
    instructions: "Write about {{ input.topic }} using {{ state.notes }}"
`;

export const cascadesWorkload: Workload = {
  module: 'cascades',
  async run(s) {
    s.llm.setScript({
      replies: [
        { times: 1, toolCalls: [{ name: 'set_state', arguments: { key: 'notes', value: 'three facts' } }], usage: { input: 40, output: 4 } },
        { times: 1, text: 'research done', usage: { input: 40, output: 4 } },
        { times: 1, text: 'a post about metrics', usage: { input: 40, output: 4 } },
      ],
    });
    const def = await s.api('POST', '/cascades/definitions', CASCADE, 'application/yaml');
    if (def.status >= 300) throw new Error(`saving the cascade answered ${def.status}: ${JSON.stringify(def.body)}`);
    const run = await s.api('POST', `/cascades/definitions/${def.body.cascadeId}/runs`, { inputs: { topic: 'metrics' } });
    if (run.status !== 201) throw new Error(`starting the cascade answered ${run.status}: ${JSON.stringify(run.body)}`);
    const id = run.body.sessionId as string;
    const done = await s.eventually(`session ${id} ended`, async () => {
      const x = (await s.api('GET', `/cascades/sessions/${id}`)).body;
      return ['completed', 'failed', 'cancelled'].includes(x.status) ? x : undefined;
    }, 120_000);
    if (done.status !== 'completed') throw new Error(`the cascade should complete: ${JSON.stringify(done)}`);
    return ['cascades_sessions', 'cascades_turns_total', 'cascades_llm_tokens_total', 'cascades_llm_cost_total', 'cascades_phases_total', 'cascades_phase_duration_seconds', 'cascades_sessions_ended_total', 'llm_calls_total', 'llm_tokens_total', 'llm_cost_total'];
  },
};
