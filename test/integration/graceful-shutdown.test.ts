/** Graceful shutdown: stop() finishes an in-flight HTTP request and an in-flight job before closing, then new requests are refused. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { startServer } from '../../src/kernel/boot/serve.ts';
import { loadConfig } from '../../src/kernel/config/load.ts';
import type { Module } from '../../src/kernel/module.ts';
import { createRouter } from '../../src/kernel/http/router.ts';
import { defineRoute } from '../../src/kernel/http/route.ts';
import type { QueueWorker } from '../../src/kernel/queue/port.ts';
import { tempDir } from '../helpers/server-process.ts';

const finished: string[] = [];
let jobStarted!: () => void;
const jobStartedP = new Promise<void>((r) => (jobStarted = r));
let worker: QueueWorker | undefined;

/** A module with a slow route and a slow job, to have work in flight at shutdown. */
const slowModule: Module = {
  name: 'slow',
  description: 'slow work for the shutdown test',
  configSchema: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
  routes: (ctx) => {
    const app = createRouter('slow');
    app.openapi(defineRoute({ method: 'get', path: '/wait', operationId: 'wait', summary: 'answers after 800 ms', responses: { 200: { description: 'done' } } }), async (c) => {
        await new Promise((r) => setTimeout(r, 800));
        finished.push('request');
        return c.json({ done: true });
      });
    app.openapi(defineRoute({ method: 'post', path: '/job', operationId: 'job', summary: 'adds a slow job', responses: { 201: { description: 'added' } } }), async (c) => c.json(await ctx.resources.queue.add('slow-jobs', 'sleep', {}), 201));
    return app;
  },
  async start(ctx) {
    worker = await ctx.resources.queue.work('slow-jobs', async () => {
      jobStarted();
      await new Promise((r) => setTimeout(r, 800));
      finished.push('job');
    });
  },
  async stop() {
    await worker?.close();
  },
};

describe('graceful shutdown', () => {
  it('finishes in-flight requests and jobs, then stops accepting', async () => {
    const cfg = loadConfig([slowModule], { env: {}, flags: { 'server.port': 0, dataDir: join(tempDir(), 'data'), 'log.level': 'silent' } });
    const server = await startServer(cfg, [slowModule], 'test');
    expect((await fetch(`${server.url}/api/v1/slow/job`, { method: 'POST' })).status).toBe(201);
    await jobStartedP;
    const inFlight = fetch(`${server.url}/api/v1/slow/wait`);
    await new Promise((r) => setTimeout(r, 100));
    await server.stop();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    expect(finished.sort()).toEqual(['job', 'request']);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    // The budget includes starting an embedded server (PGlite), which takes tens of seconds on a loaded two-core box.
  }, 120_000);
});
