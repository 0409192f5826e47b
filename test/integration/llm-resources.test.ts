/** A module reaches the LLM port as ctx.resources.llm, built from the `llm` config by the real boot path; its errors render as problem+json. */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { startServer, type RunningServer } from '../../src/kernel/boot/serve.ts';
import { loadConfig } from '../../src/kernel/config/load.ts';
import { createRouter } from '../../src/kernel/http/router.ts';
import { defineRoute } from '../../src/kernel/http/route.ts';
import type { Module } from '../../src/kernel/module.ts';
import { tempDir } from '../helpers/server-process.ts';
import { fakeLlmForFile } from '../contract/llm-fake.ts';

const KEY = 'sk-integration-key-123456789';

/** A module that asks the LLM what a request says. */
const askModule: Module = {
  name: 'ask',
  description: 'asks the LLM',
  configSchema: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  routes: (ctx) => {
    const app = createRouter('ask');
    app.openapi(
      defineRoute({
        method: 'post',
        path: '/ask',
        operationId: 'ask',
        summary: 'ask the LLM',
        request: { body: { required: true, content: { 'application/json': { schema: z.object({ q: z.string() }) } } } },
        responses: { 200: { description: 'the answer' } },
      }),
      async (c) => {
        const { q } = c.req.valid('json');
        const r = await ctx.resources.llm.chat({ model: 'm', messages: [{ role: 'user', content: q }], signal: c.req.raw.signal });
        return c.json({ text: r.text, model: r.model.id, cost: r.cost });
      },
    );
    return app;
  },
};

const fake = fakeLlmForFile(['--api-key-env', 'EXPECTED'], { EXPECTED: KEY });
let server: RunningServer;
beforeAll(async () => {
  const flags = { 'server.port': 0, dataDir: join(tempDir(), 'data'), 'log.level': 'silent', llm: { providers: { fake: { baseUrl: fake.baseUrl, apiKeyEnv: 'FAKE_KEY', maxRetries: 0, prices: { m: { input: 1_000_000, output: 0 } } } } } };
  server = await startServer(loadConfig([askModule], { env: { FAKE_KEY: KEY }, flags }), [askModule], 'test');
});
afterAll(async () => {
  await server?.stop();
});

describe('resources.llm in a module', () => {
  it('answers through the configured provider with its key, and /metrics counts the call', async () => {
    const res = await fetch(`${server.url}/api/v1/ask/ask`, { method: 'POST', body: JSON.stringify({ q: 'ping' }), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { text: string; model: string; cost: number };
    expect(body).toMatchObject({ text: 'ping', model: 'fake/m' });
    expect(body.cost).toBeGreaterThan(0);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/llm_calls_total\{provider="fake",model="m",outcome="ok"\} 1/);
  });

  it('renders an LLM failure as problem+json with its stable code', async () => {
    await fake.script({ replies: [{ error: { status: 503 }, times: 'always' }] });
    const res = await fetch(`${server.url}/api/v1/ask/ask`, { method: 'POST', body: JSON.stringify({ q: 'ping' }), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ code: 'LlmProviderError', status: 502 });
  });
});
