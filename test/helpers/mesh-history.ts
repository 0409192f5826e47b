/**
 * A Jepsen-style history checker for the mesh. Agents append every replica start and stop (node, slot, token, pid,
 * this machine's wall clock) to their `--history` file; the test adds what it observed itself (the time a replica
 * process was found gone after its agent was SIGKILLed, and the windows in which an agent was paused). From that it
 * builds each replica's active interval and reports every pair of intervals of one slot that overlap, and checks the
 * token-checking register: every write carrying a token lower than one already accepted was rejected.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { RegisterWrite } from './mesh.ts';

/** One line of an agent's history file. */
export interface HistoryEntry {
  t: number;
  node: string;
  ev: 'start' | 'stop';
  workload: string;
  slot: number;
  token: number;
  pid?: number;
  reason?: string;
}

/** A replica's active interval: from its start to its stop (or to `end` if it never stopped). */
export interface ActiveInterval {
  slot: string;
  node: string;
  token: number;
  pid: number;
  from: number;
  to: number;
  /** True when the interval has no logged end and was closed by an observation of the test (or is still running). */
  observedEnd: boolean;
}

/** Reads history files (missing ones are empty). */
export function readHistory(files: string[]): HistoryEntry[] {
  return files
    .filter((f) => existsSync(f))
    .flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as HistoryEntry))
    .sort((a, b) => a.t - b.t);
}

/**
 * Active intervals per replica process. `goneAt` gives, for a pid whose agent was killed, when the test found it
 * gone; a replica with neither a logged stop nor an observed end is active until `now`.
 */
export function activeIntervals(history: HistoryEntry[], goneAt: Map<number, number>, now = Date.now()): ActiveInterval[] {
  const open = new Map<number, ActiveInterval>();
  const done: ActiveInterval[] = [];
  for (const e of history) {
    if (e.pid === undefined) continue;
    if (e.ev === 'start') open.set(e.pid, { slot: `${e.workload}.${e.slot}`, node: e.node, token: e.token, pid: e.pid, from: e.t, to: now, observedEnd: true });
    else {
      const i = open.get(e.pid);
      if (!i) continue;
      open.delete(e.pid);
      done.push({ ...i, to: e.t, observedEnd: false });
    }
  }
  for (const i of open.values()) done.push({ ...i, to: goneAt.get(i.pid) ?? now });
  return done.sort((a, b) => a.from - b.from);
}

/** A pair of replicas of one slot active at the same time. */
export interface Overlap {
  a: ActiveInterval;
  b: ActiveInterval;
  /** Milliseconds both were active. */
  ms: number;
}

/** Every pair of intervals of the same slot that overlap in time. */
export function overlappingIntervals(intervals: ActiveInterval[]): Overlap[] {
  const out: Overlap[] = [];
  for (let i = 0; i < intervals.length; i++) {
    for (let j = i + 1; j < intervals.length; j++) {
      const [a, b] = [intervals[i]!, intervals[j]!];
      if (a.slot !== b.slot) continue;
      const ms = Math.min(a.to, b.to) - Math.max(a.from, b.from);
      if (ms > 0) out.push({ a, b, ms });
    }
  }
  return out;
}

/** Register writes that break fencing: a write accepted although a higher token had been accepted before it. */
export function staleAccepted(writes: RegisterWrite[]): RegisterWrite[] {
  let max = 0;
  const bad: RegisterWrite[] = [];
  for (const w of writes) {
    if (w.accepted && w.token < max) bad.push(w);
    if (w.accepted) max = Math.max(max, w.token);
  }
  return bad;
}

/** Describes an overlap for a failure message. */
export function describeOverlap(o: Overlap): string {
  const f = (i: ActiveInterval) => `${i.node} token ${i.token} pid ${i.pid} [${i.from}, ${i.to}]`;
  return `${o.a.slot}: ${f(o.a)} and ${f(o.b)} both active for ${o.ms} ms`;
}
