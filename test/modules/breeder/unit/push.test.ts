/**
 * Pushing the breeder metrics to a Pushgateway: a loopback HTTP stand-in of the gateway's PUT records what arrives.
 * The push carries only the breeder series, in the text format, under job/<job>/instance/<instance>; a refused or
 * unreachable gateway is logged once per outage and does not throw; stop pushes a last time.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../../../src/kernel/index.ts';
import { createBreederMetrics } from '../../../../src/modules/breeder/runtime/metrics.ts';
import { pushUrl, startPush } from '../../../../src/modules/breeder/runtime/push.ts';

let server: Server;
let base: string;
let status = 200;
const got: { method: string; url: string; type: string; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ method: req.method!, url: req.url!, type: String(req.headers['content-type']), body });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
});

function recordingLog(): { log: Logger; warns: string[] } {
  const warns: string[] = [];
  const log = { warn: (_o: unknown, msg: string) => warns.push(msg), info() {}, debug() {}, error() {} } as unknown as Logger;
  return { log, warns };
}

describe('Pushgateway push', () => {
  it('PUTs the breeder series under the grouping key, logs a refusing gateway once, and pushes on stop', async () => {
    const registry = new Registry();
    const m = createBreederMetrics(registry);
    new Counter({ name: 'other_module_total', help: 'not ours', registers: [registry] }).inc();
    m.trials.inc({ breeder: 'b1', state: 'complete' }, 2);
    m.trials.inc({ breeder: 'b1', state: 'fail' });
    m.phase.observe({ phase: 'sample' }, 0.002);
    const { log, warns } = recordingLog();
    // A long interval: only the explicit pushes below happen during the test.
    const pusher = startPush(registry, { url: `${base}/`, intervalMs: 3_600_000, job: 'capstan breeder', instance: 'inst/1' }, log);

    expect(await pusher.pushOnce()).toBe(true);
    const first = got.at(-1)!;
    expect(first.method).toBe('PUT');
    expect(first.url).toBe('/metrics/job/capstan%20breeder/instance/inst%2F1');
    expect(first.type).toContain('text/plain');
    expect(first.body).toContain('breeder_trials_total{breeder="b1",state="complete"} 2');
    expect(first.body).toContain('breeder_trials_total{breeder="b1",state="fail"} 1');
    expect(first.body).toContain('breeder_trial_phase_seconds_count{phase="sample"} 1');
    expect(first.body).not.toContain('other_module_total');

    status = 500;
    expect(await pusher.pushOnce()).toBe(false);
    expect(await pusher.pushOnce()).toBe(false);
    expect(warns).toEqual(['could not push breeder metrics to the Pushgateway']);
    status = 200;

    m.trials.inc({ breeder: 'b1', state: 'complete' });
    const before = got.length;
    await pusher.stop();
    expect(got.length).toBe(before + 1);
    expect(got.at(-1)!.body).toContain('breeder_trials_total{breeder="b1",state="complete"} 3');
  });

  it('does not throw when the gateway cannot be reached', async () => {
    const { log, warns } = recordingLog();
    const pusher = startPush(new Registry(), { url: 'http://127.0.0.1:9', intervalMs: 3_600_000, job: 'j', instance: 'i' }, log);
    expect(await pusher.pushOnce()).toBe(false);
    await pusher.stop();
    expect(warns).toHaveLength(1);
    expect(pushUrl({ url: 'http://gw:9091///', job: 'j', instance: 'i' })).toBe('http://gw:9091/metrics/job/j/instance/i');
  });
});
