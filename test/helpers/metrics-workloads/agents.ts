/**
 * The agents' work: one agent on a fresh git repository, scripted through the fake LLM, writes a file, tries to read
 * outside its worktree (refused by the safety rules) and finishes; so turns, ends, tokens, cost, refusals and the
 * kernel's LLM series all have samples.
 */
import { makeRepo } from '../agents-server.ts';
import type { Workload } from './workload.ts';

export const agentsWorkload: Workload = {
  module: 'agents',
  async run(s) {
    s.llm.setScript({
      sessionHeader: 'x-capstan-agent',
      replies: [
        { times: 1, toolCalls: [{ name: 'write_file', arguments: { path: 'NOTES.md', content: 'metrics\n' } }], usage: { input: 50, output: 5 } },
        { times: 1, toolCalls: [{ name: 'read_file', arguments: { path: '../../etc/passwd' } }], usage: { input: 60, output: 6 } },
        { times: 1, toolCalls: [{ name: 'finish', arguments: { summary: 'notes written' } }], usage: { input: 70, output: 7 } },
      ],
    });
    const spawned = await s.api('POST', '/agents/agents', { model: 'fake/agent', task: 'Write notes', repo: makeRepo() });
    if (spawned.status !== 201) throw new Error(`spawning an agent answered ${spawned.status}: ${JSON.stringify(spawned.body)}`);
    const id = spawned.body.id as string;
    const done = await s.eventually(`agent ${id} ended`, async () => {
      const a = (await s.api('GET', `/agents/agents/${id}`)).body;
      return ['completed', 'failed', 'killed'].includes(a.status) ? a : undefined;
    }, 120_000);
    if (done.status !== 'completed') throw new Error(`the agent should complete: ${JSON.stringify(done)}`);
    return ['agents_turns_total', 'agents_ended_total', 'agents_llm_tokens_total', 'agents_llm_cost_total', 'agents_safety_refusals_total', 'llm_calls_total', 'llm_call_duration_seconds', 'llm_tokens_total', 'llm_cost_total'];
  },
};
