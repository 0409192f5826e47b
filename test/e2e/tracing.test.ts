/**
 * OpenTelemetry across instances: instance A (role api) takes a workflow trigger, instance B (role worker) relays the
 * outbox, consumes the step's event and calls an HTTP target. Both export OTLP/HTTP JSON to the test's own receiver;
 * one trace must link all of it, and the target must see a traceparent of that trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/kernel/http/auth.ts';
import { eventually } from '../helpers/async.ts';
import { removeDeploymentData } from '../helpers/deployment-cleanup.ts';
import { NATS_URL, REDIS_URL, uniqueName } from '../helpers/env.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.ts';
import { createTestDatabase } from '../helpers/postgres.ts';
import { startServer, type ServerProcess } from '../helpers/server-process.ts';

const TOKEN = 'tracing-token';
const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const prefix = uniqueName('trace').toLowerCase();
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let receiver: OtlpReceiver;
let a: ServerProcess;
let b: ServerProcess;
const seen: { traceparent: string | null; runId?: string }[] = [];
let target: ReturnType<typeof Bun.serve>;

function env(): Record<string, string> {
  return {
    DATABASE_URL: db.url,
    REDIS_URL,
    NATS_URL,
    CAPSTAN_PREFIX: prefix,
    CAPSTAN_AUTH__TOKENS: `[{name: t, sha256: ${hashToken(TOKEN)}, scopes: [admin]}]`,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
    CAPSTAN_TRACING__EXPORT_INTERVAL_MS: '100',
  };
}

beforeAll(async () => {
  receiver = startOtlpReceiver();
  target = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const body = (await req.json().catch(() => ({}))) as { runId?: string };
      seen.push({ traceparent: req.headers.get('traceparent'), runId: body.runId });
      return Response.json({ status: 'done' });
    },
  });
  db = await createTestDatabase('trace');
  a = await startServer({ env: env(), args: ['--role', 'api'] });
  const def = ['name: traced', 'start: call', 'states:', `  call: { http: { url: "http://127.0.0.1:${target.port}/step", to: [done] } }`, '  done: {}', ''].join('\n');
  const res = await fetch(`${a.url}/api/v1/workflow/definitions`, { method: 'POST', headers: { ...headers, 'content-type': 'application/yaml' }, body: def });
  expect(res.status, await res.text()).toBe(201);
  b = await startServer({ env: env(), args: ['--role', 'worker'] });
  // A first run completes once B's consumer holds its role. Until then a run may be found by the consumer's start-up
  // sweep instead of its event, and a sweep is not part of the trigger's trace.
  const warm = await fetch(`${a.url}/api/v1/workflow/workflows/traced/runs`, { method: 'POST', headers, body: JSON.stringify({ foreignId: 'warm-up' }) });
  const { runId } = (await warm.json()) as { runId: string };
  await eventually('the warm-up run is called', async () => seen.find((s) => s.runId === runId));
}, 180_000);

afterAll(async () => {
  await Promise.all([a?.stop('SIGTERM'), b?.stop('SIGTERM')]);
  target?.stop(true);
  receiver?.stop();
  await removeDeploymentData(prefix);
  await db?.drop();
});

/** The span and its ancestors, nearest first, as far as the receiver has them. */
function ancestry(spans: ReceivedSpan[], start: ReceivedSpan): ReceivedSpan[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const chain = [start];
  for (let s = start; s.parentSpanId && byId.has(s.parentSpanId); ) {
    s = byId.get(s.parentSpanId)!;
    chain.push(s);
  }
  return chain;
}

describe('tracing across two instances', () => {
  it('one trace links the trigger on A, the outbox relay and step consumer on B, and the step’s HTTP call', async () => {
    const trigger = await fetch(`${a.url}/api/v1/workflow/workflows/traced/runs`, { method: 'POST', headers, body: JSON.stringify({ foreignId: 'f1' }) });
    expect(trigger.status).toBe(201);
    const { runId } = (await trigger.json()) as { runId: string };
    const call = await eventually('the target is called', async () => seen.find((s) => s.runId === runId));
    expect(call.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const [, traceId, parentId] = call.traceparent!.split('-');

    const pidA = String(a.child.pid);
    const pidB = String(b.child.pid);
    // The client span whose id the target saw as its parent, with its ancestors back to the trigger.
    const chain = await eventually('the spans of the whole chain arrive', async () => {
      const mine = receiver.spans.filter((s) => s.traceId === traceId);
      const client = mine.find((s) => s.spanId === parentId);
      if (!client) return undefined;
      const c = ancestry(mine, client);
      return c[c.length - 1]!.parentSpanId ? undefined : c;
    });
    const described = chain.map((s) => `${s.name} [${s.resource['service.instance.id'] === pidA ? 'A' : s.resource['service.instance.id'] === pidB ? 'B' : '?'}]`);
    // Nearest first: the outbound call, the step, the delivery of the status event, its publication by the relay, the
    // relay's row, ... back to the HTTP request on A that wrote the row.
    const at = (pattern: RegExp) => chain.findIndex((s) => pattern.test(s.name));
    const client = chain[0]!;
    expect(client.kind, described.join(' <- ')).toBe(3);
    expect(client.name).toMatch(/^POST 127\.0\.0\.1:\d+$/);
    const step = at(/^workflow step traced\/call$/);
    const deliver = at(/^deliver workflow\./);
    const publish = at(/^publish workflow\./);
    const relay = at(/^outbox relay$/);
    const root = chain[chain.length - 1]!;
    expect([step, deliver, publish, relay].every((i) => i > 0), described.join(' <- ')).toBe(true);
    expect(step < deliver && deliver < publish && publish < relay, described.join(' <- ')).toBe(true);
    for (const i of [0, step, deliver, publish, relay]) expect(chain[i]!.resource['service.instance.id'], described.join(' <- ')).toBe(pidB);
    expect(root.name).toBe('POST /api/v1/workflow/workflows/:name/runs');
    expect(root.kind).toBe(2);
    expect(root.resource['service.instance.id']).toBe(pidA);
    expect(root.attributes['http.response.status_code']).toBe(201);
    // The trigger's statement (run row and outbox row in one) is in the trace too, a client span under A's request.
    const onA = receiver.spans.filter((s) => s.traceId === traceId && s.resource['service.instance.id'] === pidA);
    const write = onA.find((s) => s.kind === 3 && s.attributes['db.system.name'] === 'postgresql' && String(s.attributes['db.query.text']).includes('INSERT INTO kernel_outbox'));
    expect(write?.parentSpanId).toBe(root.spanId);
    // B's statements for the step (reading the run, writing the move) are children of the step's span.
    const stepSpan = chain[step]!;
    expect(receiver.spans.filter((s) => s.traceId === traceId && s.parentSpanId === stepSpan.spanId && s.attributes['db.system.name'] === 'postgresql').length).toBeGreaterThan(0);
    expect(receiver.rejected).toEqual([]);
  });

  it('a problem+json body carries the trace id of its request, and the span reached the receiver', async () => {
    const res = await fetch(`${a.url}/api/v1/workflow/workflows/traced/runs`, { method: 'POST', headers, body: JSON.stringify({ foreignId: 42 }) });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { traceId?: string; errors: { path: string }[] };
    expect(problem.errors[0]!.path).toContain('foreignId');
    expect(problem.traceId).toMatch(/^[0-9a-f]{32}$/);
    const span = await eventually('the failed request’s span arrives', async () => receiver.spans.find((s) => s.traceId === problem.traceId && s.kind === 2));
    expect(span.attributes['http.response.status_code']).toBe(400);
  });

  it('a caller’s traceparent is continued, not replaced', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await fetch(`${a.url}/api/v1/workflow/runs/nope`, { headers: { ...headers, traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { traceId?: string }).traceId).toBe(traceId);
    const span = await eventually('the continued span arrives', async () => receiver.spans.find((s) => s.traceId === traceId && s.kind === 2));
    expect(span.parentSpanId).toBe('00f067aa0ba902b7');
  });
});
