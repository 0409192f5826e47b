/** The membership contract over any KvStore: members see each other, a leaver is dropped at once, a silent one after its timeout. */
import { afterEach, describe, expect, it } from 'vitest';
import type { KvStore } from '../../src/kernel/kv/port.ts';
import { createLogger } from '../../src/kernel/log.ts';
import { Membership } from '../../src/kernel/roles/membership.ts';
import { eventually } from '../helpers/async.ts';
import { uniqueName } from '../helpers/env.ts';

const log = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a factory gives the suite. */
export interface MembershipFixture {
  /** Stores as separate processes would have them (same backend). */
  stores: [KvStore, KvStore, KvStore];
  /** Starts a member of `group` in a separate process that is then killed with SIGKILL (absent: not testable here). */
  crashMember?(group: string, id: string, heartbeatMs: number, timeoutMs: number): Promise<{ kill(): Promise<void> }>;
}

/** Runs the membership suite. */
export function membershipContract(name: string, factory: () => Promise<MembershipFixture>): void {
  describe(`Membership contract: ${name}`, () => {
    const started: Membership[] = [];
    const member = (store: KvStore, group: string, id: string, heartbeatMs: number, timeoutMs: number, meta?: Record<string, unknown>) => {
      const m = new Membership({ kv: store, group, id, heartbeatMs, timeoutMs, meta, log });
      started.push(m);
      return m;
    };
    afterEach(async () => {
      await Promise.all(started.splice(0).map((m) => m.stop()));
    });

    it('members see each other with what they announced, and a late joiner sees those already there', async () => {
      const f = await factory();
      const group = uniqueName('g').replace(/_/g, '-');
      const a = member(f.stores[0], group, 'member-a', 200, 2_000, { host: 'h1' });
      const b = member(f.stores[1], group, 'member-b', 200, 2_000, { host: 'h2' });
      const changes: string[][] = [];
      a.onChange((ids) => changes.push(ids));
      expect(await a.start()).toEqual(['member-a']);
      await b.start();
      await eventually('a sees b', async () => a.ids().length === 2 || undefined);
      expect(b.ids()).toEqual(['member-a', 'member-b']);
      expect(b.members().find((m) => m.id === 'member-a')?.meta).toEqual({ host: 'h1' });
      const c = member(f.stores[2], group, 'member-c', 200, 2_000);
      // Joined after both: its first list already has them.
      expect(await c.start()).toEqual(['member-a', 'member-b', 'member-c']);
      await eventually('a sees c', async () => a.ids().length === 3 || undefined);
      expect(changes).toEqual([['member-a'], ['member-a', 'member-b'], ['member-a', 'member-b', 'member-c']]);
    });

    it('a new announcement reaches the others, and they hear of it as a change', async () => {
      const f = await factory();
      const group = uniqueName('g').replace(/_/g, '-');
      const a = member(f.stores[0], group, 'watcher', 200, 2_000);
      const b = member(f.stores[1], group, 'announcer', 200, 2_000, { sets: ['x'] });
      await a.start();
      await b.start();
      await eventually('a.ids().includes(announcer)', async () => a.ids().includes('announcer') || undefined);
      let told = 0;
      a.onChange(() => told++);
      await b.announce({ sets: ['x', 'y'] });
      await eventually('new meta seen', async () => JSON.stringify(a.members().find((m) => m.id === 'announcer')?.meta) === JSON.stringify({ sets: ['x', 'y'] }) || undefined);
      expect(told).toBeGreaterThanOrEqual(1);
      expect(a.ids()).toEqual(['announcer', 'watcher']);
    });

    it('a member that leaves is dropped at once, long before its timeout', async () => {
      const f = await factory();
      const group = uniqueName('g').replace(/_/g, '-');
      const timeoutMs = 60_000;
      const a = member(f.stores[0], group, 'stays', 500, timeoutMs);
      const b = member(f.stores[1], group, 'leaves', 500, timeoutMs);
      await a.start();
      await b.start();
      await eventually('a.ids().includes(leaves)', async () => a.ids().includes('leaves') || undefined);
      const left = Date.now();
      await b.stop();
      await eventually('leaver dropped', async () => !a.ids().includes('leaves') || undefined, 10_000);
      expect(Date.now() - left).toBeLessThan(timeoutMs);
      expect(a.ids()).toEqual(['stays']);
    });

    it('a member that stops heartbeating is kept until its timeout, then dropped', async () => {
      const f = await factory();
      const group = uniqueName('g').replace(/_/g, '-');
      const timeoutMs = 1_500;
      const a = member(f.stores[0], group, 'observer', 200, timeoutMs);
      await a.start();
      const b = member(f.stores[1], group, 'silent', 200, timeoutMs);
      await b.start();
      await eventually('a.ids().includes(silent)', async () => a.ids().includes('silent') || undefined);
      const silentFrom = performance.now();
      await b.stop({ leave: false });
      // Expiry can be late under load but never early: half the timeout after the last beat it is still a member.
      await sleep(timeoutMs / 2 - 200);
      if (performance.now() - silentFrom < timeoutMs) expect(a.ids()).toContain('silent');
      await eventually('silent member dropped', async () => !a.ids().includes('silent') || undefined, timeoutMs * 4);
      expect(performance.now() - silentFrom).toBeGreaterThanOrEqual(timeoutMs - 200);
    });

    it('a process killed with SIGKILL is dropped after its timeout', async (ctx) => {
      const f = await factory();
      if (!f.crashMember) return ctx.skip();
      const group = uniqueName('g').replace(/_/g, '-');
      const a = member(f.stores[0], group, 'survivor', 200, 1_500);
      await a.start();
      const child = await f.crashMember(group, 'doomed', 200, 1_500);
      await eventually('child seen', async () => a.ids().includes('doomed') || undefined, 15_000);
      await child.kill();
      await eventually('killed member dropped', async () => !a.ids().includes('doomed') || undefined, 10_000);
      expect(a.ids()).toEqual(['survivor']);
    });

    it('refuses a timeout shorter than two heartbeats and an id that is not a key', async () => {
      const f = await factory();
      expect(() => new Membership({ kv: f.stores[0], group: 'g', id: 'x', heartbeatMs: 1_000, timeoutMs: 1_500, log })).toThrow(/twice/);
      expect(() => new Membership({ kv: f.stores[0], group: 'g', id: 'a b', log })).toThrow(/invalid key/);
    });
  });
}
