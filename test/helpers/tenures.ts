/**
 * A log of role tenures (work start and end, with the lease's fencing token) from one or more instances, and the check
 * that matters: no two tenures of one role overlap, and each later tenure carries a larger token.
 */

/** One event of a role's work. */
export interface TenureEvent {
  kind: 'start' | 'end';
  role: string;
  owner: string;
  token: number;
  /** A clock shared by every recorder (performance.timeOrigin + performance.now() across processes). */
  at: number;
}

/** A clock comparable across processes on one machine, with sub-millisecond resolution. */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Tenures of every role seen; open ones end at `openEnd` (e.g. when their process was killed) if given. */
export class TenureLog {
  readonly events: TenureEvent[] = [];

  record(e: TenureEvent): void {
    this.events.push(e);
  }

  /** Marks every open tenure of `owner` as ended at `at` (its process was killed then). */
  endAll(owner: string, at: number): void {
    for (const t of this.tenures()) if (t.owner === owner && t.end === undefined) this.events.push({ kind: 'end', role: t.role, owner, token: t.token, at });
  }

  /** Tenures by role, in start order. */
  tenures(): { role: string; owner: string; token: number; start: number; end?: number }[] {
    const open = new Map<string, { role: string; owner: string; token: number; start: number; end?: number }>();
    const out: { role: string; owner: string; token: number; start: number; end?: number }[] = [];
    for (const e of this.events) {
      const key = `${e.role}\u0000${e.owner}\u0000${e.token}`;
      if (e.kind === 'start') {
        const t = { role: e.role, owner: e.owner, token: e.token, start: e.at };
        open.set(key, t);
        out.push(t);
      } else {
        const t = open.get(key);
        if (t) t.end = e.at;
        open.delete(key);
      }
    }
    return out.sort((a, b) => a.start - b.start);
  }

  /** Descriptions of every overlap or non-increasing token; empty when the log is sound. */
  violations(): string[] {
    const byRole = new Map<string, ReturnType<TenureLog['tenures']>>();
    for (const t of this.tenures()) byRole.set(t.role, [...(byRole.get(t.role) ?? []), t]);
    const problems: string[] = [];
    for (const [role, ts] of byRole) {
      for (let i = 1; i < ts.length; i++) {
        const prev = ts[i - 1]!;
        const next = ts[i]!;
        if (prev.end === undefined || prev.end > next.start) problems.push(`${role}: ${next.owner} (token ${next.token}) started at ${next.start.toFixed(1)} while ${prev.owner} (token ${prev.token}) held it until ${prev.end?.toFixed(1) ?? 'still open'}`);
        if (next.token <= prev.token) problems.push(`${role}: token ${next.token} of ${next.owner} not above ${prev.token} of ${prev.owner}`);
      }
    }
    return problems;
  }
}
