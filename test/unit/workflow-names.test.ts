/** Names derived from user names for the bus, leases and KV stay valid for every input, keep short names as they were, and never change between versions. */
import { describe, expect, it } from 'vitest';
import { resolveDurable } from '../../src/kernel/bus/durable-options.ts';
import { boundedName } from '../../src/kernel/bounded-name.ts';
import { validateKey } from '../../src/kernel/kv/keys.ts';
import { connectorDurableName, connectorRoleName, roleName, scheduleSlotKey } from '../../src/modules/workflow/runtime/names.ts';

/** A durable name both bus adapters accept (the one rule they share). */
const validDurable = (name: string) => resolveDurable({ name, pattern: 'a.>' }).name;

const AWKWARD = [
  'w'.repeat(64),
  `w${'x'.repeat(40)}`,
  'a.b',
  'a b*>c',
  'ünïcødé-名前-🚀🚀🚀',
  '..',
  '-',
  `${'🚀'.repeat(64)}`,
  `${'.'.repeat(64)}`,
];

describe('boundedName', () => {
  it('keeps a name that is valid and short enough as it is', () => {
    expect(boundedName('order-created_1', 100)).toBe('order-created_1');
    expect(boundedName('x'.repeat(100), 100)).toBe('x'.repeat(100));
  });

  it('shortens a long name to a readable prefix and a hash of the whole, within the bound', () => {
    const a = boundedName(`${'x'.repeat(120)}a`, 100);
    const b = boundedName(`${'x'.repeat(120)}b`, 100);
    expect(a).toHaveLength(100);
    expect(a.startsWith('x'.repeat(89))).toBe(true);
    expect(a).not.toBe(b);
  });

  it('hashes a name with other characters, so names that differ only there stay apart', () => {
    expect(boundedName('a.b', 100)).toMatch(/^a_b-[0-9a-f]{10}$/);
    expect(boundedName('a.b', 100)).not.toBe(boundedName('a_b', 100));
    expect(boundedName('a.b', 100)).not.toBe(boundedName('a,b', 100));
  });

  // Pinned to sha256sum's output: a change here renames every deployed durable and lease key.
  it('gives the same name in every version: these values are part of deployed durables and lease keys', () => {
    expect(boundedName(`w${'x'.repeat(40)}-s${'y'.repeat(43)}`, 100 - '-consumer-1-of-1'.length)).toBe(`w${'x'.repeat(40)}-s${'y'.repeat(30)}-a6cd9bcc6f`);
    expect(boundedName('a.b', 100)).toBe('a_b-2e7336dc8e');
  });
});

describe('workflow names for the bus, leases and KV', () => {
  it('are what they always were for short, valid names', () => {
    expect(roleName('order', 'paid', 0, 5)).toBe('order-paid-consumer-1-of-5');
    expect(connectorRoleName('shop-order', 'orders', 0, 1)).toBe('shop-order-connector-orders-0-of-1');
    expect(connectorDurableName('shop-order', 'orders')).toBe('wf-shop-order-connector-orders');
    expect(connectorDurableName('shop-order', 'orders', 'shop.order.created')).toMatch(/^wf-shop-order-connector-orders-[0-9a-f]{8}$/);
    expect(scheduleSlotKey('ticker', 'every-second', new Date(1_000))).toBe('ticker.every-second.1000');
  });

  it('are valid durable names and KV keys for the longest and most awkward inputs', () => {
    for (const w of AWKWARD) {
      for (const s of AWKWARD) {
        for (const [shard, of] of [
          [0, 1],
          [63, 64],
        ] as const) {
          for (const name of [roleName(w, s, shard, of), connectorRoleName(w, s, shard, of), connectorDurableName(w, s), connectorDurableName(w, s, 'a.*.>')]) {
            expect(validDurable(name)).toBe(name);
            expect(() => validateKey(name)).not.toThrow();
          }
          expect(() => validateKey(scheduleSlotKey(w, s, new Date()))).not.toThrow();
        }
      }
    }
  });

  it('keep the shard readable at the end and distinct for each shard and each status', () => {
    const w = 'w'.repeat(64);
    const names = new Set<string>();
    for (const s of ['s'.repeat(64), `${'s'.repeat(63)}t`]) for (let i = 0; i < 64; i++) names.add(roleName(w, s, i, 64));
    expect(names.size).toBe(128);
    expect(roleName(w, 's'.repeat(64), 63, 64)).toMatch(/-consumer-64-of-64$/);
  });
});
