/** The workflow module's work: a run through a callback and an http step, a timeout that fires, a step that fails until the run pauses. */
import type { Workload } from './workload.ts';

export const workflowWorkload: Workload = {
  module: 'workflow',
  async run(s) {
    const target = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: (req) => (new URL(req.url).pathname === '/ship' ? Response.json({ status: 'shipped' }) : new Response('down', { status: 503 })),
    });
    try {
      const definitions = [
        `
name: metrics-order
start: created
states:
  created: { callback: { to: [paid] }, timeout: { after: 1s, to: expired } }
  paid: { http: { url: "http://127.0.0.1:${target.port}/ship", to: [shipped] } }
  shipped: {}
  expired: {}
`,
        `
name: metrics-failing
start: ship
states:
  ship: { http: { url: "http://127.0.0.1:${target.port}/down", to: [shipped] }, retry: { attempts: 2, backoff: 50ms } }
  shipped: {}
`,
      ];
      for (const d of definitions) {
        const r = await s.api('POST', '/workflow/definitions', d, 'application/yaml');
        if (r.status !== 201) throw new Error(`applying a definition answered ${r.status}: ${JSON.stringify(r.body)}`);
      }
      const start = async (workflow: string, foreignId: string) => (await s.api('POST', `/workflow/workflows/${workflow}/runs`, { foreignId })).body.runId as string;
      const [paid, expiring, failing] = await Promise.all([start('metrics-order', 'paid'), start('metrics-order', 'expiring'), start('metrics-failing', 'failing')]);
      const callback = await s.api('POST', `/workflow/runs/${paid}/callback/created`, { status: 'paid' });
      if (callback.status !== 200) throw new Error(`the callback answered ${callback.status}: ${JSON.stringify(callback.body)}`);
      const reaches = (runId: string, status: string, runState: string) =>
        s.eventually(`run ${runId} ${runState} at ${status}`, async () => {
          const run = (await s.api('GET', `/workflow/runs/${runId}`)).body as { status: string; runState: string };
          return run.status === status && run.runState === runState ? true : undefined;
        });
      await Promise.all([reaches(paid, 'shipped', 'completed'), reaches(expiring, 'expired', 'completed'), reaches(failing, 'ship', 'paused')]);
    } finally {
      target.stop(true);
    }
    return ['workflow_run_state_changes_total', 'workflow_process_errors_total', 'workflow_process_latency_seconds', 'workflow_process_states', 'workflow_process_lag_seconds'];
  },
};
