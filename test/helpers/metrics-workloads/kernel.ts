/** The kernel's work: events published and streamed, queue jobs completed and failed, a lease taken and released. */
import type { Workload } from './workload.ts';

export const kernelWorkload: Workload = {
  module: 'kernel',
  async run(s) {
    expect202(await s.api('POST', '/events', { type: 'metrics.probe.sent', data: { n: 1 } }));
    // A ping the built-in diagnostics worker completes, and a job it does not know, which fails.
    const ping = await s.api('POST', '/queues/capstan-diagnostics/jobs', { name: 'ping' });
    const bad = await s.api('POST', '/queues/capstan-diagnostics/jobs', { name: 'no-such-job' });
    for (const [job, state] of [
      [ping, 'completed'],
      [bad, 'failed'],
    ] as const) {
      if (job.status !== 201) throw new Error(`adding a job answered ${job.status}: ${JSON.stringify(job.body)}`);
      await s.eventually(`job ${job.body.id} ${state}`, async () => ((await s.api('GET', `/queues/capstan-diagnostics/jobs/${job.body.id}`)).body.state === state ? true : undefined));
    }
    const lease = await s.api('POST', '/leases/metrics-probe', { ttlMs: 2_000 });
    if (lease.status !== 201) throw new Error(`taking a lease answered ${lease.status}`);
    if ((await s.api('DELETE', '/leases/metrics-probe')).status !== 204) throw new Error('releasing the lease failed');
    return ['http_request_duration_seconds', 'bus_published_total', 'bus_delivered_total', 'queue_jobs_completed_total', 'queue_jobs_failed_total', 'queue_jobs', 'outbox_relay_leader', 'outbox_pending_events', 'outbox_oldest_event_age_seconds', 'dependency_up', 'dependency_latency_seconds'];
  },
};

function expect202(r: { status: number; body: unknown }): void {
  if (r.status !== 202) throw new Error(`publishing answered ${r.status}: ${JSON.stringify(r.body)}`);
}
