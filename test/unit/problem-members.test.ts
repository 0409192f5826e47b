/** problem+json: an error's details never replace RFC 9457's own members (a 409 once answered `"status": "completed"`). */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { Conflict } from '../../src/kernel/errors.ts';
import { errorHandler } from '../../src/kernel/http/problem.ts';
import { createLogger } from '../../src/kernel/log.ts';

describe('problem+json members', () => {
  it('keeps status numeric and moves a clashing detail to <name>Detail', async () => {
    const app = new Hono();
    app.onError(errorHandler(createLogger({ level: 'silent' })));
    app.post('/x', () => {
      throw new Conflict("session 's1' has already ended (completed)", { status: 'completed', title: 'mine', other: 1 });
    });
    const res = await app.request('/x', { method: 'POST' });
    expect(res.status).toBe(409);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 409, title: 'Conflict', statusDetail: 'completed', titleDetail: 'mine', other: 1, code: 'Conflict', instance: '/x' });
  });
});
