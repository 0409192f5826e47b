/**
 * The Roles contract over any KvStore: a role's work runs on one instance at a time with the lease's fencing token,
 * stops the moment the lease is lost, and is released when stopped; sharded role sets spread evenly over the live
 * instances and move when one joins or leaves, never with two holders of one role at once.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { Conflict, Unavailable } from '../../src/kernel/errors.ts';
import type { KvStore } from '../../src/kernel/kv/port.ts';
import { createLogger } from '../../src/kernel/log.ts';
import { assignRoles } from '../../src/kernel/roles/assignment.ts';
import { createRoles } from '../../src/kernel/roles/roles.ts';
import type { HeldRole, Roles, RoleWork } from '../../src/kernel/roles/types.ts';
import { untilAborted } from '../../src/kernel/time.ts';
import { eventually } from '../helpers/async.ts';
import { uniqueName } from '../helpers/env.ts';
import { testRoles } from '../helpers/roles.ts';
import { sharedNow, TenureLog } from '../helpers/tenures.ts';

const TTL = 1_000;
/** Fast membership so that joins and leaves settle within a few seconds. */
const MEMBERSHIP = { heartbeatMs: 200, memberTimeoutMs: 1_000 };

/** Work that records its tenure and holds until told to stop. */
function recording(log: TenureLog): RoleWork {
  return async (signal, held) => {
    log.record({ kind: 'start', role: held.name, owner: held.owner, token: held.token, at: sharedNow() });
    try {
      await untilAborted(signal);
    } finally {
      log.record({ kind: 'end', role: held.name, owner: held.owner, token: held.token, at: sharedNow() });
    }
  };
}

/** A metric's value from a registry (0 when absent). */
async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, want]) => String((x.labels as Record<string, unknown>)[k]) === want));
  return v?.value ?? 0;
}

/** Runs the roles suite; `stores` are three stores as three processes would have them (same backend). */
export function rolesContract(name: string, factory: () => Promise<[KvStore, KvStore, KvStore]>): void {
  describe(`Roles contract: ${name}`, () => {
    const open: Roles[] = [];
    const instance = async (i: number, owner: string, registry = new Registry()) => {
      const stores = await factory();
      const r = testRoles(stores[i]!, owner, { registry, ...MEMBERSHIP });
      open.push(r);
      return r;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((r) => r.close()));
    });

    it('a plain role runs on one instance at a time; when its holder stops, another takes it with a larger token', async () => {
      const log = new TenureLog();
      const role = uniqueName('plain');
      const a = await instance(0, uniqueName('a'));
      const b = await instance(1, uniqueName('b'));
      const ha = a.holdRole(role, { ttlMs: TTL }, recording(log));
      const hb = b.holdRole(role, { ttlMs: TTL }, recording(log));
      await eventually('one holder', async () => log.tenures().length === 1 || undefined);
      // Across several TTLs (renewals) the same tenure continues and the other never starts.
      await new Promise((r) => setTimeout(r, TTL * 2.5));
      expect(log.tenures()).toHaveLength(1);
      const first = log.tenures()[0]!;
      const [holder, other] = first.owner === a.self ? [ha, hb] : [hb, ha];
      expect(holder.held()).toEqual([role]);
      expect(other.held()).toEqual([]);
      await holder.stop();
      await eventually('the other takes over', async () => log.tenures().length === 2 || undefined);
      const second = log.tenures()[1]!;
      expect(second.owner).not.toBe(first.owner);
      expect(second.token).toBeGreaterThan(first.token);
      expect(log.violations()).toEqual([]);
    });

    it("the work's signal aborts the moment the lease is lost; the role is taken again with a new token", async () => {
      const stores = await factory();
      const log = new TenureLog();
      const registry = new Registry();
      const role = uniqueName('lost');
      const a = await instance(0, uniqueName('a'), registry);
      a.holdRole(role, { ttlMs: TTL }, recording(log));
      await eventually('log.tenures().length === 1', async () => log.tenures().length === 1 || undefined);
      // Someone rewrites the lease behind the holder's back: its next renewal finds the key changed.
      const bucket = await stores[1].bucket(`leases-${TTL}`, { ttlMs: TTL });
      await bucket.put(role, { owner: 'intruder', acquiredAt: new Date().toISOString() });
      await eventually('work stopped', async () => log.tenures()[0]?.end !== undefined || undefined);
      expect(await metric(registry, 'roles_lost_total', { reason: 'taken' })).toBe(1);
      // The intruder never renews, so its entry lapses and the role comes back.
      await eventually('re-acquired', async () => log.tenures().length === 2 || undefined, 10_000);
      expect(log.tenures()[1]!.token).toBeGreaterThan(log.tenures()[0]!.token);
      expect(log.violations()).toEqual([]);
    });

    it('work that fails is logged, its role released, and it runs again', async () => {
      const registry = new Registry();
      const role = uniqueName('fail');
      const a = await instance(0, uniqueName('a'), registry);
      const calls: HeldRole[] = [];
      a.holdRole(role, { ttlMs: TTL }, async (signal, held) => {
        calls.push(held);
        if (calls.length === 1) throw new Error('first attempt fails');
        await untilAborted(signal);
      });
      await eventually('second attempt', async () => calls.length === 2 || undefined);
      expect(await metric(registry, 'roles_released_total', { reason: 'work_failed' })).toBe(1);
      expect(calls[1]!.token).toBeGreaterThan(calls[0]!.token);
      expect(await metric(registry, 'roles_held', { set: role })).toBe(1);
      expect(await metric(registry, 'roles_acquired_total', { set: role })).toBe(2);
    });

    it('refuses a role name this instance already runs', async () => {
      const a = await instance(0, uniqueName('a'));
      const role = uniqueName('dup');
      a.holdRole(role, { ttlMs: TTL }, (s) => untilAborted(s));
      expect(() => a.holdRole(role, { ttlMs: TTL }, (s) => untilAborted(s))).toThrow(Conflict);
      expect(() => a.holdShards('s', [role], { ttlMs: TTL }, (s) => untilAborted(s))).toThrow(Conflict);
      expect(() => a.holdShards('s', ['x', 'x'], { ttlMs: TTL }, (s) => untilAborted(s))).toThrow(Conflict);
    });

    it('shards spread evenly over live instances, move to a joiner and from a leaver, never with two holders at once', async () => {
      const log = new TenureLog();
      const set = uniqueName('set');
      const names = Array.from({ length: 6 }, (_, i) => `${set}-${i + 1}-of-6`);
      const registries = [new Registry(), new Registry(), new Registry()];
      const owners = ['a', 'b', 'c'].map((x) => uniqueName(x));
      const [a, b] = [await instance(0, owners[0]!, registries[0]), await instance(1, owners[1]!, registries[1])];
      const handles = [a, b].map((r) => r.holdShards(set, names, { ttlMs: TTL }, recording(log)));
      /** Who holds what now, by owner, as the tenure log shows it. */
      const holding = () => {
        const by = new Map<string, string[]>();
        for (const t of log.tenures()) if (t.end === undefined) by.set(t.owner, [...(by.get(t.owner) ?? []), t.role].sort());
        return by;
      };
      const matches = (members: string[]) => {
        const want = assignRoles(set, names, members);
        const have = holding();
        return members.every((m) => JSON.stringify(have.get(m) ?? []) === JSON.stringify(names.filter((n) => want.get(n) === m).sort())) && [...have.keys()].every((o) => members.includes(o));
      };
      await eventually('two instances hold 3 shards each', async () => matches([owners[0]!, owners[1]!]) || undefined, 15_000);
      expect([...holding().values()].map((x) => x.length)).toEqual([3, 3]);
      expect(handles[0]!.held().length).toBe(3);

      const c = await instance(2, owners[2]!, registries[2]);
      c.holdShards(set, names, { ttlMs: TTL }, recording(log));
      await eventually('the joiner gets its share', async () => matches(owners) || undefined, 15_000);
      expect([...holding().values()].map((x) => x.length)).toEqual([2, 2, 2]);
      expect(await metric(registries[2]!, 'roles_held', { set })).toBe(2);
      expect(await metric(registries[2]!, 'roles_members')).toBe(3);
      expect(c.members().map((m) => m.id)).toEqual([...owners].sort());
      // Shards moved to the joiner were handed over by their holders on its claim.
      const handedOver = (await metric(registries[0]!, 'roles_released_total', { set, reason: 'handed_over' })) + (await metric(registries[1]!, 'roles_released_total', { set, reason: 'handed_over' }));
      const before = assignRoles(set, names, owners.slice(0, 2));
      const after = assignRoles(set, names, owners);
      expect(handedOver).toBe(names.filter((n) => before.get(n) !== after.get(n)).length);

      await a.close();
      await eventually("the leaver's shards move", async () => matches([owners[1]!, owners[2]!]) || undefined, 15_000);
      expect([...holding().values()].map((x) => x.length)).toEqual([3, 3]);
      expect(log.violations()).toEqual([]);
    });

    it('a set is spread only over the members that run it', async () => {
      const log = new TenureLog();
      const set = uniqueName('only');
      const names = Array.from({ length: 4 }, (_, i) => `${set}-${i + 1}`);
      // The second instance is a member (it holds another set) but does not run this one.
      const other = await instance(1, uniqueName('other'));
      other.holdShards(uniqueName('elsewhere'), [uniqueName('o')], { ttlMs: TTL }, (s) => untilAborted(s));
      const runs = await instance(0, uniqueName('runs'));
      const h = runs.holdShards(set, names, { ttlMs: TTL }, recording(log));
      await eventually('all shards on the one instance that runs the set', async () => runs.members().length === 2 && h.held().length === names.length || undefined);
      expect(runs.members().find((m) => m.id === other.self)?.meta.sets).toHaveLength(1);
      expect(log.violations()).toEqual([]);
    });

    it('a shard whose assignee cannot take it is taken by another instance after the grace', async () => {
      const stores = await factory();
      const log = new TenureLog();
      const set = uniqueName('grace');
      const names = Array.from({ length: 4 }, (_, i) => `${set}-${i + 1}`);
      const owners = [uniqueName('able'), uniqueName('stuck')];
      // The stuck instance runs the set and is a live member, but its lease store does not answer.
      const stuck = createRoles({
        leases: { acquire: async () => Promise.reject(new Unavailable('lease store down')), holder: async () => undefined },
        kv: stores[1],
        owner: owners[1]!,
        registry: new Registry(),
        log: createLogger({ level: 'silent' }),
        ...MEMBERSHIP,
      });
      open.push(stuck);
      stuck.holdShards(set, names, { ttlMs: TTL }, recording(log));
      await eventually('stuck.members().length === 1', async () => stuck.members().length === 1 || undefined);
      const able = await instance(0, owners[0]!);
      const graceMs = 2_000;
      const startedAt = performance.now();
      const h = able.holdShards(set, names, { ttlMs: TTL, graceMs }, recording(log));
      await eventually('both members seen', async () => able.members().length === 2 || undefined);
      const assigned = assignRoles(set, names, owners);
      const mine = names.filter((n) => assigned.get(n) === owners[0]);
      expect(mine).toHaveLength(2);
      await eventually('own shards held', async () => h.held().length >= mine.length || undefined);
      expect(h.held().sort()).toEqual(mine.sort());
      await eventually('the stuck assignee\'s shards taken', async () => h.held().length === names.length || undefined, 20_000);
      // Not before the grace: the assignee might still have come.
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(graceMs);
      expect(log.violations()).toEqual([]);
    });
  });
}
