/**
 * Sharded roles across real processes on NATS: two instances split a set of shards, a third joins and gets its share,
 * one is SIGKILLed and its shards move to the rest. Every process logs each tenure (start, end, fencing token); at no
 * moment do two processes hold one shard, and each later holder has a larger token.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { NatsKvStore } from '../../src/kernel/kv/nats-kv.ts';
import { assignRoles } from '../../src/kernel/roles/assignment.ts';
import { eventually } from '../helpers/async.ts';
import { NATS_URL, uniqueName } from '../helpers/env.ts';
import { BUN, REPO_ROOT } from '../helpers/server-process.ts';
import { sharedNow, TenureLog, type TenureEvent } from '../helpers/tenures.ts';

const prefix = uniqueName('rsp');
const SET = 'spread';
const SHARDS = 12;
const TTL = 1_500;
const HEARTBEAT = 200;
const MEMBER_TIMEOUT = 1_500;
const names = Array.from({ length: SHARDS }, (_, i) => `${SET}-${i + 1}-of-${SHARDS}`);
const log = new TenureLog();
const children = new Map<string, ChildProcess>();

afterAll(async () => {
  for (const c of children.values()) if (c.exitCode === null) c.kill('SIGKILL');
  const kv = new NatsKvStore({ url: NATS_URL, prefix });
  await kv.destroyAll();
  await kv.close();
});

/** Starts one instance holding the set; its tenure lines go into the shared log. */
async function startInstance(id: string): Promise<void> {
  const child = spawn(BUN, [join(REPO_ROOT, 'test/fixtures/role-member.ts'), 'shards', NATS_URL, prefix, id, SET, String(SHARDS), String(TTL), String(HEARTBEAT), String(MEMBER_TIMEOUT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.set(id, child);
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'READY') resolve();
        else if (line.startsWith('{')) log.record(JSON.parse(line) as TenureEvent);
      }
    });
    child.once('exit', (code) => reject(new Error(`instance ${id} exited ${code}`)));
  });
}

/** Open tenures by owner, sorted. */
function holding(): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const t of log.tenures()) if (t.end === undefined) by.set(t.owner, [...(by.get(t.owner) ?? []), t.role].sort());
  return by;
}

/** True when exactly `members` hold shards, each exactly the ones the assignment gives it. */
function heldAsAssigned(members: string[]): boolean {
  const want = assignRoles(SET, names, members);
  const have = holding();
  if ([...have.keys()].some((o) => !members.includes(o))) return false;
  return members.every((m) => JSON.stringify(have.get(m) ?? []) === JSON.stringify(names.filter((n) => want.get(n) === m).sort()));
}

it('spreads shards over instances, gives a joiner its share, moves a killed instance\'s shards, never two holders at once', async () => {
  const [a, b, c] = ['ins-a', 'ins-b', 'ins-c'].map((x) => `${x}-${prefix.slice(-6)}`) as [string, string, string];
  await Promise.all([startInstance(a), startInstance(b)]);
  await eventually('two instances hold 6 shards each', async () => heldAsAssigned([a, b]) || undefined, 20_000);
  expect([...holding().values()].map((x) => x.length)).toEqual([6, 6]);

  const joinedAt = sharedNow();
  await startInstance(c);
  await eventually('the joiner holds its share', async () => heldAsAssigned([a, b, c]) || undefined, 20_000);
  const joinMs = sharedNow() - joinedAt;
  expect([...holding().values()].map((x) => x.length)).toEqual([4, 4, 4]);

  // SIGKILL: no release, no leave. Its shards are free once its leases lapse, and reassigned once it drops out.
  const killed = children.get(b)!;
  const exited = new Promise((r) => killed.once('exit', r));
  killed.kill('SIGKILL');
  await exited;
  const killedAt = sharedNow();
  log.endAll(b, killedAt);
  await eventually("the killed instance's shards move", async () => heldAsAssigned([a, c]) || undefined, 20_000);
  const moveMs = sharedNow() - killedAt;
  expect([...holding().values()].map((x) => x.length)).toEqual([6, 6]);
  // Its shards could not move before its leases lapsed (the lease guarantees it), nor long after it dropped out.
  expect(moveMs).toBeGreaterThan(TTL * 0.5);
  expect(log.violations()).toEqual([]);
  console.log(`roles-spread: joiner held its share after ${joinMs.toFixed(0)} ms; a killed instance's shards moved after ${moveMs.toFixed(0)} ms (lease TTL ${TTL} ms, member timeout ${MEMBER_TIMEOUT} ms)`);
}, 90_000);
