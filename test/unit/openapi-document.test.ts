import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentApp, fetchDocument, undocumentedRoutes, type OpenApiDocument } from '../../src/kernel/http/api-document.ts';
import type { AppEnv } from '../../src/kernel/http/app-env.ts';
import { defineRoute } from '../../src/kernel/http/route.ts';
import { createRouter } from '../../src/kernel/http/router.ts';
import type { Module } from '../../src/kernel/module.ts';
import { MODULES } from '../../src/main.ts';

type Operation = { summary?: string; operationId?: string; tags?: string[]; security?: unknown[]; responses: Record<string, { content?: Record<string, unknown> }> };

let built: ReturnType<typeof documentApp>;
let doc: OpenApiDocument;
beforeAll(async () => {
  built = documentApp(MODULES, '1.2.3');
  doc = await fetchDocument(built.app);
});
afterAll(async () => {
  await built.close();
});

const operations = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op: op as Operation })));

describe('the OpenAPI document of every module', () => {
  it('lists every route the app answers, and no operation the app does not answer', () => {
    expect(undocumentedRoutes(built.app.routes, doc)).toEqual([]);
    const answered = new Set(built.app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`));
    expect(operations().map((o) => o.key).filter((k) => !answered.has(k))).toEqual([]);
    // The routes the issue found missing.
    expect(Object.keys(doc.paths['/api/v1/workflow/definitions'] ?? {}).sort()).toEqual(['get', 'post']);
  });

  it('gives every operation a summary, a unique operationId, tags, security and a problem answer', () => {
    const ids = new Set<string>();
    for (const { key, op } of operations()) {
      expect(op.summary, key).toBeTruthy();
      expect(op.operationId, key).toMatch(/^[a-z][A-Za-z0-9]+$/);
      expect(ids.has(op.operationId!), `${key}: operationId ${op.operationId} twice`).toBe(false);
      ids.add(op.operationId!);
      expect(op.tags?.length, key).toBe(1);
      expect(Array.isArray(op.security), key).toBe(true);
      if (op.security!.length === 0) continue; // public: the root and the probes
      expect(op.security, key).toEqual([{ bearerAuth: [] }]);
      for (const status of ['401', '403']) expect(op.responses[status]?.content?.['application/problem+json'], `${key} ${status}`).toBeTruthy();
    }
    const components = doc.components as { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
    expect(components.securitySchemes.bearerAuth).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    expect(components.schemas.Problem).toBeTruthy();
    expect(doc.servers).toEqual([expect.objectContaining({ url: 'http://127.0.0.1:7070' })]);
  });
});

describe('a route registered around defineRoute', () => {
  it('is found: the app answers it and the document does not list it', async () => {
    const sneaky: Module = {
      name: 'sneaky',
      description: 'registers a plain Hono route',
      configSchema: z.strictObject({ enabled: z.boolean().default(true) }).prefault({}),
      routes: () => {
        const app = createRouter('sneaky');
        app.openapi(defineRoute({ method: 'get', path: '/seen', operationId: 'seen', summary: 'documented', responses: { 200: { description: 'ok' } } }), (c) => c.text('seen'));
        // What the type of createRouter() forbids, done through a cast: the check must still catch it.
        (app as unknown as OpenAPIHono<AppEnv>).get('/hidden/:id', (c) => c.text('hidden'));
        return app;
      },
    };
    const other = documentApp([sneaky], '0');
    try {
      const d = await fetchDocument(other.app);
      expect(undocumentedRoutes(other.app.routes, d)).toEqual(['GET /api/v1/sneaky/hidden/{id}']);
    } finally {
      await other.close();
    }
  });

  it('is refused by the router when made with createRoute', () => {
    const app = createRouter('x');
    const plain = createRoute({ method: 'get', path: '/plain', responses: { 200: { description: 'ok' } } });
    expect(() => app.openapi(plain, (c) => c.text('x'))).toThrow(/GET \/plain: declare operations with defineRoute/);
  });
});
