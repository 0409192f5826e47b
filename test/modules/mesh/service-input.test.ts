/**
 * The mesh service's edge on the memory KV (what an embedded server runs): NUL characters and lone UTF-16 surrogates
 * anywhere in a workload (name, argv, env, selector labels, their keys) are refused with the field's path and write
 * nothing; malformed names and node ids in paths are 400 naming the parameter; an embedded server says in the apply
 * answer that its workloads are in memory only.
 */
import { describe, expect, it } from 'vitest';
import { Invalid, type Logger } from '../../../src/kernel/index.ts';
import { MemoryBus } from '../../../src/kernel/bus/memory-bus.ts';
import { MemoryKvStore } from '../../../src/kernel/kv/memory-kv.ts';
import { EMBEDDED_WARNING, MeshService } from '../../../src/modules/mesh/service.ts';

const spec = (over: Record<string, unknown> = {}, run: Record<string, unknown> = {}) => ({ name: 'w', run: { kind: 'process', argv: ['sleep', '60'], ...run }, topology: { kind: 'failover', sites: ['a'] }, ...over });

async function invalid(p: Promise<unknown>): Promise<string[]> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(Invalid);
  return (err as Invalid).issues.map((i) => i.path);
}

describe('mesh service input', () => {
  const svc = new MeshService(new MemoryKvStore(), new MemoryBus({ source: 't' }));

  it('refuses NUL and lone surrogates in argv, env, selector labels and keys with the field path, writing nothing', async () => {
    expect(await invalid(svc.apply(spec({}, { argv: ['sleep', '6\u00000'] })))).toEqual(['body.run.argv.1']);
    expect(await invalid(svc.apply(spec({}, { env: { A: 'x\uD800' } })))).toEqual(['body.run.env.A']);
    expect(await invalid(svc.apply(spec({}, { cwd: '/tmp/\uDC00' })))).toEqual(['body.run.cwd']);
    expect(await invalid(svc.apply(spec({ selector: { disk: 'ss\u0000d' } })))).toEqual(['body.selector.disk']);
    expect(await invalid(svc.apply(spec({ selector: { ['di\uD800sk']: 'ssd' } })))).toEqual(['body.selector.di\uD800sk']);
    expect(await invalid(svc.apply(spec({ name: 'w\u0000' })))).toEqual(['body.name']);
    expect(await invalid(svc.apply(spec({ topology: { kind: 'geo', allowed: ['d\u0000e'] } })))).toEqual(['body.topology.allowed.0']);
    expect(await svc.list()).toEqual([]);
    // A surrogate pair (an emoji) is valid text.
    expect((await svc.apply(spec({}, { env: { A: '\u{1F600}' } }))).created).toBe(true);
  });

  it('answers 400 naming the path parameter for names and node ids that cannot exist', async () => {
    expect(await invalid(svc.get('a\u0000b'))).toEqual(['path.name']);
    expect(await invalid(svc.remove('a.b'))).toEqual(['path.name']);
    expect(await invalid(svc.setDesired('\uD800', 'stopped'))).toEqual(['path.name']);
    expect(await invalid(svc.setNode('n\u00001', 'cordon'))).toEqual(['path.id']);
    expect(await invalid(svc.setNode('n.1', 'drain'))).toEqual(['path.id']);
  });

  it('says in the apply answer when the workloads live in an embedded server\'s memory only', async () => {
    const warned: unknown[] = [];
    const log = { warn: (...a: unknown[]) => warned.push(a) } as unknown as Logger;
    const embedded = new MeshService(new MemoryKvStore(), new MemoryBus({ source: 't' }), undefined, { embedded: true, log });
    expect((await embedded.apply(spec())).warnings).toEqual([EMBEDDED_WARNING]);
    expect(warned).toHaveLength(1);
    expect((await svc.apply(spec({ name: 'w2' }))).warnings).toBeUndefined();
  });
});
