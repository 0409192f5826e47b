/**
 * The breeder's work: a simulated target (`capstan dev target`, a child process) tuned over HTTP for a few trials, so
 * that trial counts, phase timings and the best value have samples; then a breeder whose objective cannot be read,
 * so that its trials fail and the fail series has samples too.
 */
import { startTarget } from '../breeder-target.ts';
import type { Workload, WorkloadServer } from './workload.ts';

function definition(name: string, targetUrl: string, objectivePath: string): Record<string, unknown> {
  return {
    name,
    space: { x1: { type: 'float', low: -5, high: 10 }, x2: { type: 'float', low: 0, high: 15 } },
    objectives: [{ name: 'branin', direction: 'minimize', source: { http: { url: `${targetUrl}/metrics.json`, path: objectivePath } } }],
    effectuation: { http: { url: `${targetUrl}/apply`, body: { params: '{{ params }}' } } },
    algorithm: { sampler: 'random', seed: 1 },
    run: { max_trials: 3 },
    rollback: { after_consecutive_failures: 2, to: 'previous', then: 'stop' },
  };
}

async function runToEnd(s: WorkloadServer, def: Record<string, unknown>): Promise<Record<string, any>> {
  const created = await s.api('POST', '/breeder/breeders', def);
  if (created.status !== 201) throw new Error(`creating breeder ${def.name} answered ${created.status}: ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  const started = await s.api('POST', `/breeder/breeders/${id}/start`);
  if (started.status !== 200) throw new Error(`starting breeder ${def.name} answered ${started.status}: ${JSON.stringify(started.body)}`);
  return s.eventually(`breeder ${def.name} ended`, async () => {
    const b = (await s.api('GET', `/breeder/breeders/${id}`)).body;
    return ['completed', 'stopped', 'failed', 'paused'].includes(b.status) ? b : undefined;
  }, 120_000);
}

export const breederWorkload: Workload = {
  module: 'breeder',
  async run(s) {
    const target = await startTarget(['--function', 'branin']);
    try {
      const done = await runToEnd(s, definition('metrics-branin', target.url, '$.value'));
      if (done.status !== 'completed' || done.trials?.complete !== 3) throw new Error(`the breeder should complete 3 trials: ${JSON.stringify(done)}`);
      const broken = await runToEnd(s, definition('metrics-unreadable', target.url, '$.no_such_field'));
      if (!broken.trials?.fail) throw new Error(`the unreadable objective should fail trials: ${JSON.stringify(broken)}`);
    } finally {
      await target.stop();
    }
    return ['breeder_trials_total', 'breeder_trial_phase_seconds', 'breeder_best_value'];
  },
};
