/** The assignment of sharded roles to members: balanced per set, the same on every instance, and moving little when members change. */
import { describe, expect, it } from 'vitest';
import { assignRoles, hash32 } from '../../src/kernel/roles/assignment.ts';

/** Deterministic member ids that look like real ones (`ins-` + 12 base-36 characters). */
function memberIds(count: number, seed: number): string[] {
  return Array.from({ length: count }, (_, i) => `ins-${hash32(`m${seed}.${i}`).toString(36).padStart(7, '0')}${hash32(`n${seed}.${i}`).toString(36).slice(0, 5)}`);
}

function roleNames(set: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${set}-consumer-${i + 1}-of-${n}`);
}

function counts(a: Map<string, string>, members: string[]): number[] {
  return members.map((m) => [...a.values()].filter((x) => x === m).length);
}

/** Roles whose member differs between two assignments. */
function moved(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...before.keys()].filter((r) => before.get(r) !== after.get(r));
}

describe('assignRoles', () => {
  it('gives every role to exactly one live member, with counts differing by at most one', () => {
    for (let seed = 0; seed < 50; seed++) {
      for (const n of [1, 2, 3, 5, 8, 16, 33]) {
        for (const m of [1, 2, 3, 4, 7]) {
          const members = memberIds(m, seed);
          const roles = roleNames(`wf${seed}-s`, n);
          const a = assignRoles(`wf${seed}/s`, roles, members);
          expect([...a.keys()].sort()).toEqual([...roles].sort());
          for (const owner of a.values()) expect(members).toContain(owner);
          const c = counts(a, members);
          expect(Math.max(...c) - Math.min(...c), `n=${n} m=${m} seed=${seed}`).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it('is the same whatever order the member list comes in, and empty without members', () => {
    const members = memberIds(4, 7);
    const roles = roleNames('w-s', 10);
    const a = assignRoles('w/s', roles, members);
    expect(assignRoles('w/s', roles, [...members].reverse())).toEqual(a);
    expect(assignRoles('w/s', roles, [...members, members[0]!])).toEqual(a);
    expect(assignRoles('w/s', roles, []).size).toBe(0);
  });

  it('spreads sets of one role over the members instead of giving them all to one', () => {
    const members = memberIds(3, 1);
    const owners = Array.from({ length: 90 }, (_, i) => assignRoles(`wf/status${i}`, [`wf-status${i}-consumer-1-of-1`], members).get(`wf-status${i}-consumer-1-of-1`)!);
    for (const m of members) expect(owners.filter((o) => o === m).length).toBeGreaterThanOrEqual(15);
  });

  it('moves a set of one role only to a joining member, and only from a leaving one', () => {
    for (let seed = 0; seed < 100; seed++) {
      const members = memberIds(4, seed);
      const role = [`w${seed}-s-consumer-1-of-1`];
      const before = assignRoles(`w${seed}/s`, role, members.slice(0, 3)).get(role[0]!)!;
      const joined = assignRoles(`w${seed}/s`, role, members).get(role[0]!)!;
      expect([before, members[3]]).toContain(joined);
      const left = assignRoles(`w${seed}/s`, role, members.slice(1, 3)).get(role[0]!)!;
      if (before !== members[0]) expect(left).toBe(before);
    }
  });

  it('on a join most moves go to the joiner, and on a leave most come from the leaver (within 1.5x of the least possible)', () => {
    let joinMoves = 0;
    let joinLeast = 0;
    let leaveMoves = 0;
    let leaveLeast = 0;
    for (let seed = 0; seed < 200; seed++) {
      const n = [4, 6, 12, 16, 24, 64][seed % 6]!;
      const m = 2 + (seed % 4);
      const members = memberIds(m + 1, seed);
      const roles = roleNames(`w${seed}-s`, n);
      const old = assignRoles(`w${seed}/s`, roles, members.slice(0, m));
      const joined = assignRoles(`w${seed}/s`, roles, members);
      // The joiner's share has to move to it; anything else that moves is extra.
      joinMoves += moved(old, joined).length;
      joinLeast += [...joined.values()].filter((x) => x === members[m]).length;
      const left = assignRoles(`w${seed}/s`, roles, members.slice(1, m));
      leaveMoves += moved(old, left).length;
      leaveLeast += [...old.values()].filter((x) => x === members[0]).length;
    }
    expect(joinMoves).toBeLessThanOrEqual(1.5 * joinLeast);
    expect(leaveMoves).toBeLessThanOrEqual(1.5 * leaveLeast);
  });
});
