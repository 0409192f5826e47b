/**
 * Hostile input against the workflow HTTP API (embedded mode, a real Bun server): every case must answer a 4xx
 * problem+json naming the field, never a 500 or a hang, and must leave nothing half-written.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/kernel/boot/serve.ts';
import { loadConfig } from '../../src/kernel/config/load.ts';
import { createWorkflowModule } from '../../src/modules/workflow/index.ts';
import { tempDir } from '../helpers/server-process.ts';

let server: RunningServer;
let base: string;
beforeAll(async () => {
  const modules = [createWorkflowModule()];
  const cfg = loadConfig(modules, { env: {}, flags: { 'server.port': 0, dataDir: join(tempDir(), 'data'), 'log.level': 'silent' } });
  server = await startServer(cfg, modules, 'test');
  base = `${server.url}/api/v1/workflow`;
  expect((await api('POST', '/definitions', ORDER, 'application/yaml')).status).toBe(201);
  expect((await api('POST', '/definitions', SHOP, 'application/yaml')).status).toBe(201);
  expect((await api('POST', '/definitions', CALC, 'application/yaml')).status).toBe(201);
}, 180_000);
afterAll(async () => {
  await server?.stop();
});

interface Answer {
  status: number;
  type: string | null;
  body: Record<string, unknown> & { errors?: { path: string; message: string }[] };
}

/** Sends a request; a string body is sent as is, anything else as JSON. */
async function api(method: string, path: string, body?: unknown, type: string | null = 'application/json'): Promise<Answer> {
  const headers: Record<string, string> = type ? { 'content-type': type } : {};
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), body: text ? JSON.parse(text) : {} };
}

/** Asserts a 4xx problem+json whose errors name `path`. */
function expectProblem(a: Answer, status: number, path: string): void {
  expect(a.status, JSON.stringify(a.body)).toBe(status);
  expect(a.type).toBe('application/problem+json');
  expect(a.body.errors?.map((e) => e.path), JSON.stringify(a.body)).toContain(path);
}

async function runsOf(workflow: string, foreignId?: string): Promise<{ runId: string; runState: string; status: string; version: number }[]> {
  const q = new URLSearchParams({ workflow, ...(foreignId ? { foreignId } : {}) });
  const r = await api('GET', `/runs?${q}`);
  expect(r.status).toBe(200);
  return r.body.runs as never;
}

async function trigger(workflow: string, foreignId: string): Promise<string> {
  const t = await api('POST', `/workflows/${workflow}/runs`, { foreignId });
  expect(t.status, JSON.stringify(t.body)).toBe(201);
  return t.body.runId as string;
}

const ORDER = `
name: order
start: created
states:
  created: { callback: { to: [paid, cancelled] } }
  paid: {}
  cancelled: {}
`;
const SHOP = `
name: shop
start: created
states:
  created: { callback: { to: [paid] } }
  paid: {}
connectors:
  - name: orders
    trigger: { foreignId: "order-{{ event.data.orderId }}", object: "{{ event.data }}" }
`;
const CALC = `
name: calc
steps:
  - { id: sum, http: { url: "http://127.0.0.1:9/sum" } }
`;

/** `depth` nested arrays, written as text (JSON.stringify would recurse). */
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('text PostgreSQL cannot store is refused at the edge (was a 500)', () => {
  it('a NUL or an unpaired surrogate in a trigger names the field and starts no run', async () => {
    expectProblem(await api('POST', '/workflows/order/runs', '{"foreignId":"a\\u0000b"}'), 400, 'body.foreignId');
    expectProblem(await api('POST', '/workflows/order/runs', '{"foreignId":"\\ud800"}'), 400, 'body.foreignId');
    expectProblem(await api('POST', '/workflows/order/runs', '{"foreignId":"nul-value","object":{"k":["x","a\\u0000"]}}'), 400, 'body.object.k.1');
    expectProblem(await api('POST', '/workflows/order/runs', '{"foreignId":"nul-key","object":{"a\\u0000":1}}'), 400, 'body.object.a\u0000');
    expectProblem(await api('POST', '/workflows/order/runs', '{"foreignId":"surrogate","object":"\\udc00x"}'), 400, 'body.object');
    for (const id of ['nul-value', 'nul-key', 'surrogate']) expect(await runsOf('order', id)).toEqual([]);
  });

  it('run ids, list filters and forged cursors with a NUL answer 400', async () => {
    // A NUL anywhere in a path is refused by the kernel's shell before routing, for every module: it names `path`.
    expectProblem(await api('GET', '/runs/%00'), 400, 'path');
    expectProblem(await api('GET', '/runs/x%00/history'), 400, 'path');
    expectProblem(await api('POST', '/runs/x%00/cancel', {}), 400, 'path');
    expectProblem(await api('GET', '/runs?foreignId=a%00b'), 400, 'query.foreignId');
    const forged = (c: object) => Buffer.from(JSON.stringify(c)).toString('base64url');
    expectProblem(await api('GET', `/runs?cursor=${forged({ t: 1, id: 'a\u0000', o: 'desc' })}`), 400, 'query.cursor');
    // A time JavaScript cannot represent as a date (past ±8.64e15 ms).
    expectProblem(await api('GET', `/runs?cursor=${forged({ t: 8_640_000_000_000_001, id: 'a', o: 'desc' })}`), 400, 'query.cursor');
  });

  it('a pause reason or a callback object with a NUL leaves the run as it was', async () => {
    const id = await trigger('order', 'nul-controls');
    expectProblem(await api('POST', `/runs/${id}/pause`, '{"reason":"x\\u0000"}'), 400, 'body.reason');
    expectProblem(await api('POST', `/runs/${id}/callback/created`, '{"status":"paid","object":{"note":"\\u0000"}}'), 400, 'body.object.note');
    const run = await api('GET', `/runs/${id}`);
    expect(run.body).toMatchObject({ runState: 'running', status: 'created', version: 1 });
  });

  it('a webhook body with a NUL answers 400 and starts no run', async () => {
    expectProblem(await api('POST', '/connectors/shop/orders', '{"orderId":"7","note":"\\u0000"}'), 400, 'body.note');
    expect(await runsOf('shop', 'order-7')).toEqual([]);
  });

  it('a definition with a NUL or an unpaired surrogate (YAML or JSON) names the field and is not saved', async () => {
    const yaml = 'name: nul-def\nsteps:\n  - { id: a, http: { url: "http://127.0.0.1:9/a" }, input: { v: "a\\0b" } }\n';
    expectProblem(await api('POST', '/definitions', yaml, 'application/yaml'), 400, 'body.steps.0.input.v');
    const json = '{"name":"nul-def","steps":[{"id":"a","http":{"url":"http://127.0.0.1:9/a"},"input":{"k\\u0000":1, "s":"\\ud800"}}]}';
    const r = await api('POST', '/definitions', json);
    expectProblem(r, 400, 'body.steps.0.input.k\u0000');
    expect(r.body.errors!.map((e) => e.path)).toContain('body.steps.0.input.s');
    expect((await api('GET', '/definitions/nul-def')).status).toBe(404);
  });
});

describe('deeply nested JSON is refused (was a wedged server at 5,000 levels, a 500 at 400,000)', () => {
  it('answers 400 naming the field at once, and the server keeps serving', async () => {
    for (const depth of [5_000, 400_000]) {
      const r = await api('POST', '/workflows/order/runs', `{"foreignId":"deep-${depth}","object":${nested(depth)}}`);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.errors![0]!.path.startsWith('body.object.0.0.0')).toBe(true);
      // Refused by the shell's limit for any JSON body (128), before the run's own 64-level rule is reached.
      expect(r.body.errors![0]!.message).toContain('nested deeper than 128 levels');
      expect(await runsOf('order', `deep-${depth}`)).toEqual([]);
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const cb = await api('POST', '/connectors/shop/orders', `{"orderId":"9","x":${nested(5_000)}}`);
    expect(cb.status).toBe(400);
    expect(cb.body.errors![0]!.path.startsWith('body.x.0.0')).toBe(true);
  });

  it('a 10,000-deep JSON definition is a 400 naming the body, not a 500 from the schema check (issue 7.3)', async () => {
    const def = `{"name":"deepdef","start":"a","states":{"a":{"action":{"name":"x.y","input":${nested(10_000)},"on":{"ok":"a"}}}}}`;
    const r = await api('POST', '/definitions', def);
    expectProblem(r, 400, 'body.states.a.action.input' + '.0'.repeat(124));
    expect((await api('GET', '/definitions/deepdef')).status).toBe(404);
  });

  it('64 levels are still accepted', async () => {
    const r = await api('POST', '/workflows/order/runs', `{"foreignId":"deep-ok","object":{"a":${nested(63)}}}`);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  });
});

describe('bodies that are not UTF-8 (issue 7.4)', () => {
  it('a trigger with invalid UTF-8 bytes is a 400 naming the body and starts no run (was 201 with U+FFFD stored)', async () => {
    const before = (await runsOf('order')).length;
    const bytes = new Uint8Array([...new TextEncoder().encode('{"foreignId":"'), 0xff, 0xfe, 0xc3, 0x28, ...new TextEncoder().encode('"}')]);
    const res = await fetch(`${base}/workflows/order/runs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes });
    const answer: Answer = { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as Answer['body'] };
    expectProblem(answer, 400, 'body');
    expect((await runsOf('order')).length).toBe(before);
  });

  it('a YAML definition with invalid UTF-8 is a 400 naming the body and is not saved', async () => {
    const yaml = new TextEncoder().encode('name: badbytes\nstart: a\nstates:\n  a: {}\n# ');
    const res = await fetch(`${base}/definitions`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body: new Uint8Array([...yaml, 0xc3, 0x28, 0x0a]) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Answer['body']).errors?.map((e) => e.path)).toEqual(['body']);
    expect((await api('GET', '/definitions/badbytes')).status).toBe(404);
  });
});

describe('run controls and bodies', () => {
  it('an empty body sent as application/json counts as no body (was 400 Malformed JSON)', async () => {
    const id = await trigger('order', 'empty-body');
    const paused = await api('POST', `/runs/${id}/pause`, '');
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    expect(paused.body.runState).toBe('paused');
    expect((await api('POST', `/runs/${id}/resume`, '  ')).body.runState).toBe('running');
    expectProblem(await api('POST', `/runs/${id}/cancel`, '{"reason":'), 400, 'body');
    expectProblem(await api('POST', `/runs/${id}/cancel`, '{"reason":5}'), 400, 'body.reason');
    expect((await api('GET', `/runs/${id}`)).body.runState).toBe('running');
  });

  it('malformed JSON names the body; a non-JSON content type is a 415 naming the header', async () => {
    const bad = await api('POST', '/workflows/order/runs', '{"foreignId":');
    expectProblem(bad, 400, 'body');
    expect(bad.body.code).toBe('Invalid');
    const plain = await api('POST', '/workflows/order/runs', '{"foreignId":"plain"}', 'text/plain');
    expectProblem(plain, 415, 'header.content-type');
    expect(plain.body.title).toBe('Unsupported Media Type');
  });

  it('a DAG started at a stage needs the DAG run object (was a run paused by a TypeError)', async () => {
    expectProblem(await api('POST', '/workflows/calc/runs', { foreignId: 'dag-start', start: 'stage-1', object: {} }), 400, 'body.object.steps');
    expect(await runsOf('calc', 'dag-start')).toEqual([]);
  });
});

describe('paths name the request field', () => {
  it('trigger and callback errors found past the schema are named under body (were bare start / status)', async () => {
    expectProblem(await api('POST', '/workflows/order/runs', { foreignId: 'path-start', start: 'nosuch' }), 400, 'body.start');
    const id = await trigger('order', 'path-callback');
    expectProblem(await api('POST', `/runs/${id}/callback/created`, { status: 'created' }), 400, 'body.status');
  });

  it('a limit that is not a number from 1 to 1000 says so, also when given twice (was "received NaN")', async () => {
    for (const q of ['limit=abc', 'limit=1&limit=2', 'limit=0', 'limit=1001', 'limit=1.5']) {
      const r = await api('GET', `/runs?${q}`);
      expectProblem(r, 400, 'query.limit');
      expect(r.body.errors![0]!.message, q).not.toContain('NaN');
    }
    expect(((await api('GET', '/runs?limit=1')).body.runs as unknown[]).length).toBe(1);
  });

  it('YAML nested past the parser\'s stack says so (was "line 2, column 6888: Maximum call stack size exceeded")', async () => {
    const r = await api('POST', '/definitions', `name: deep\nstates: ${nested(100_000)}\n`, 'application/yaml');
    expectProblem(r, 400, 'body');
    expect(r.body.detail).toContain('nested too deeply');
  });
});

describe('list filters', () => {
  it('a bad date names the field and says what a date looks like (was "expected date, received Date")', async () => {
    for (const bad of ['notadate', '', '2020-13-45']) {
      const r = await api('GET', `/runs?createdAfter=${bad}`);
      expectProblem(r, 400, 'query.createdAfter');
      expect(r.body.errors![0]!.message).toContain('ISO 8601');
    }
  });

  it('a date PostgreSQL cannot hold is a 400, not a 500', async () => {
    expectProblem(await api('GET', '/runs?createdBefore=-271821-04-20'), 400, 'query.createdBefore');
    expectProblem(await api('GET', '/runs?createdAfter=275760-09-13'), 400, 'query.createdAfter');
  });

  it('ISO dates and date-times still filter', async () => {
    expect((await api('GET', '/runs?createdAfter=2000-01-01')).status).toBe(200);
    expect((await api('GET', '/runs?createdAfter=2000-01-01T10:00:00Z&createdBefore=2999-01-01T00:00:00.000%2B02:00')).status).toBe(200);
  });
});

describe('await', () => {
  it('a status the workflow does not have answers 400 at once (was a 408 after the whole timeout)', async () => {
    const id = await trigger('order', 'await-unknown');
    expectProblem(await api('GET', `/runs/${id}/await?status=nosuch&timeout=20s`), 400, 'query.status');
  });

  it('on a finished run that was never at the status answers 409 at once (was a 408 after the whole timeout)', async () => {
    const id = await trigger('order', 'await-finished');
    expect((await api('POST', `/runs/${id}/callback/created`, { status: 'cancelled' })).status).toBe(200);
    const r = await api('GET', `/runs/${id}/await?status=paid&timeout=20s`);
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body).toMatchObject({ code: 'Conflict', runState: 'completed', currentStatus: 'cancelled' });
    expect((await api('GET', `/runs/${id}/await?status=created&timeout=20s`)).body.status).toBe('cancelled');
  });

  it('a timeout over the 5 minutes the server holds a request is a 400 (was silently cut to 5m)', async () => {
    const id = await trigger('order', 'await-long');
    const r = await api('GET', `/runs/${id}/await?status=paid&timeout=1h`);
    expectProblem(r, 400, 'query.timeout');
    expect(r.body.errors![0]!.message).toContain('5m');
  });

  it('a wait longer than the HTTP idle timeout (10 s) ends in a 408 problem, not a closed socket', async () => {
    const id = await trigger('order', 'await-idle');
    // Bun checks idle sockets every few seconds, so the wait is well past 10 s to be cut for certain before the fix.
    const r = await api('GET', `/runs/${id}/await?status=paid&timeout=20s`);
    expect(r.status).toBe(408);
    expect(r.type).toBe('application/problem+json');
    expect(r.body).toMatchObject({ code: 'Timeout', title: 'Request Timeout', instance: `/api/v1/workflow/runs/${id}/await` });
    expect(typeof r.body.requestId).toBe('string');
  }, 40_000);
});

describe('definitions', () => {
  it('duplicate keys in a JSON definition are refused like in YAML (were silently last-wins)', async () => {
    const r = await api('POST', '/definitions', '{"name":"dup-a","start":"a","states":{"a":{"callback":{"to":["b"]}},"b":{},"b":{"callback":{"to":["a"]}}},"name":"dup-b"}');
    expectProblem(r, 400, 'body.states.b');
    expect(r.body.errors!.map((e) => e.path)).toContain('body.name');
    expect((await api('GET', '/definitions/dup-a')).status).toBe(404);
    expect((await api('GET', '/definitions/dup-b')).status).toBe(404);
  });

  it('a content type that is neither YAML nor JSON is a 415 naming the header (was parsed as YAML)', async () => {
    const def = '{"name":"png","start":"a","states":{"a":{"callback":{"to":["b"]}},"b":{}}}';
    expectProblem(await api('POST', '/definitions', def, 'image/png'), 415, 'header.content-type');
    expectProblem(await api('POST', '/definitions', def, 'multipart/form-data; boundary=x'), 415, 'header.content-type');
    expect((await api('GET', '/definitions/png')).status).toBe(404);
    // What curl sends by default, text/plain and no type at all are still read as YAML.
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', null, 'application/x-yaml; charset=utf-8']) {
      expect((await api('POST', '/definitions', def, type)).status, String(type)).toBe(201);
    }
  });

  it('command steps are refused on a server that does not run them (were accepted, then every run failed)', async () => {
    const r = await api('POST', '/definitions', 'name: cmd\nstart: a\nstates:\n  a: { command: { argv: [echo, hi], to: [b] } }\n  b: {}\n', 'application/yaml');
    expectProblem(r, 400, 'body.states.a.command');
    expect(r.body.errors![0]!.message).toContain('commandSteps');
    expect((await api('GET', '/definitions/cmd')).status).toBe(404);
  });

  it('a workflow whose consumer would share its lease and durable with another workflow\'s is refused (only one would run)', async () => {
    const step = 'http: { url: "http://127.0.0.1:9/x", to: [z] }';
    expect((await api('POST', '/definitions', `name: clash-a\nstart: b-c\nstates:\n  b-c: { ${step} }\n  z: {}\n`, 'application/yaml')).status).toBe(201);
    // 'clash-a-b' at 'c' and 'clash-a' at 'b-c' both make the role 'clash-a-b-c-consumer-1-of-1'.
    const r = await api('POST', '/definitions', `name: clash-a-b\nstart: c\nstates:\n  c: { ${step} }\n  z: {}\n`, 'application/yaml');
    expectProblem(r, 400, 'body.name');
    expect(r.body.errors![0]!.message).toContain("workflow 'clash-a'");
    expect((await api('GET', '/definitions/clash-a-b')).status).toBe(404);
  });
});

describe('definitions naming actions nobody registered', () => {
  it('are refused on submit, naming each place, and nothing is saved', async () => {
    const yaml = `
name: ghostly
start: a
states:
  a: { action: { name: nope.missing, on: { ok: b } } }
  b: {}
onComplete: { action: { name: nope.also } }
`;
    const res = await api('POST', '/definitions', yaml, 'application/yaml');
    expectProblem(res, 400, 'body.states.a.action');
    expectProblem(res, 400, 'body.onComplete.action');
    expect(JSON.stringify(res.body)).toContain("no action 'nope.missing' is registered");
    expect((await api('GET', '/definitions/ghostly')).status).toBe(404);
    const dag = { name: 'ghostly-dag', steps: [{ id: 'one', action: 'nope.dag' }] };
    expectProblem(await api('POST', '/definitions', dag), 400, 'body.steps.0.action');
  });
});

describe('re-applying a definition that drops a status where runs wait', () => {
  it('is a 409 naming the statuses and counts, changes nothing, and goes through with force=true', async () => {
    const v1 = `
name: strand
start: waiting
states:
  waiting: { callback: { to: [done] } }
  done: {}
`;
    expect((await api('POST', '/definitions', v1, 'application/yaml')).status).toBe(201);
    const runId = await trigger('strand', 's-1');
    const v2 = `
name: strand
start: ready
states:
  ready: { callback: { to: [done] } }
  done: {}
`;
    const refused = await api('POST', '/definitions', v2, 'application/yaml');
    expect(refused.status).toBe(409);
    expect(refused.body.stranded).toEqual({ waiting: 1 });
    expect(String(refused.body.detail)).toContain('waiting (1)');
    expect((await api('GET', '/definitions/strand')).body.version).toBe(1);
    expectProblem(await api('POST', '/definitions?force=maybe', v2, 'application/yaml'), 400, 'query.force');
    // Once the run is cancelled nothing waits there, so the same definition goes through without force.
    expect((await api('POST', `/runs/${runId}/cancel`)).status).toBe(200);
    expect((await api('POST', '/definitions', v2, 'application/yaml')).status).toBe(201);
    // And force applies over waiting runs.
    await trigger('strand', 's-2');
    expect((await api('POST', '/definitions', v1, 'application/yaml')).status).toBe(409);
    expect((await api('POST', '/definitions?force=true', v1, 'application/yaml')).status).toBe(201);
  });
});

describe('delete data', () => {
  it('scrubs a finished run once; deleting again answers the same run without another version; an active run is a 409', async () => {
    const v = `
name: erasable
start: waiting
states:
  waiting: { callback: { to: [done] } }
  done: {}
`;
    expect((await api('POST', '/definitions', v, 'application/yaml')).status).toBe(201);
    const t = await api('POST', '/workflows/erasable/runs', { foreignId: 'e-1', object: { secret: 'pii' } });
    const runId = t.body.runId as string;
    expect((await api('POST', `/runs/${runId}/delete`)).status).toBe(409);
    expect((await api('POST', `/runs/${runId}/callback/waiting`, { status: 'done' })).status).toBe(200);
    const first = await api('POST', `/runs/${runId}/delete`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ runState: 'dataDeleted', object: { deleted: true } });
    const again = await api('POST', `/runs/${runId}/delete`);
    expect(again.status).toBe(200);
    expect(again.body.version).toBe(first.body.version);
    const history = (await api('GET', `/runs/${runId}/history`)).body.history as { runState: string }[];
    expect(history.filter((h) => h.runState === 'dataDeleted')).toHaveLength(1);
    expect(JSON.stringify(history)).not.toContain('pii');
  });
});
