/** Driving cascade sessions through one instance's API in the multi-instance cascades tests. */
import { expect } from 'vitest';
import { eventually } from './async.ts';
import type { Instance } from './distributed-instance.ts';
import type { JsonApi } from './json-api.ts';

/** Saves a YAML definition on `inst` and starts a session of it; returns the session id. */
export async function runOn(inst: Instance, yaml: string, inputs: Record<string, unknown> = {}): Promise<string> {
  const d = await inst.api('POST', '/definitions', yaml, 'application/yaml');
  expect(d.status, JSON.stringify(d.body)).toBeLessThan(300);
  const r = await inst.api('POST', `/definitions/${d.body.cascadeId}/runs`, { inputs });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.sessionId;
}

/** The session once its status is one of `statuses`. */
export async function session(api: JsonApi, id: string, statuses: string[], timeoutMs = 30_000): Promise<Record<string, any>> {
  return eventually(`session ${id} in ${statuses.join('|')}`, async () => {
    const r = await api('GET', `/sessions/${id}`);
    return statuses.includes(r.body?.status) ? r.body : undefined;
  }, timeoutMs);
}

/** The child sessions of `parent` (each checked to name it as its parent). */
export async function childrenOf(api: JsonApi, parent: string): Promise<Record<string, any>[]> {
  const items = (await api('GET', `/sessions?parent=${encodeURIComponent(parent)}`)).body.items as Record<string, any>[];
  expect(items.every((s) => s.parentSessionId === parent)).toBe(true);
  return items;
}
