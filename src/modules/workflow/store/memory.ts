/**
 * An in-memory WorkflowStorePort: the same contract as the PostgreSQL/PGlite adapter (test/contract/workflow-store-port*),
 * kept in maps, so engine, transitions and timeouts get millisecond unit tests on a fake clock. Events go to an
 * in-memory outbox and, when a bus is given, are published in write order as the kernel's relay would.
 */
import { Conflict, newId, NotFound, realClock, toOutboxJsonRows, type Clock, type EventBus, type Logger, type OutboxJsonRow } from '../../../kernel/index.ts';
import { RunCreated } from '../model/events.ts';
import type { RunRecord } from '../model/run.ts';
import { ACTIVE_RUN_STATES, ERROR_PAUSE_PREFIX, runStatesLeadingTo, type RunState } from '../model/run-state.ts';
import type { StoredTriggerKey, TimeoutRow, WorkflowStorePort } from './port.ts';
import { TriggerKeyTaken } from './trigger-keys.ts';
import { assertRunStorable } from './storable.ts';
import type { HistoryEntry } from './types.ts';

/** Options of the memory store. */
export interface MemoryWorkflowStoreOptions {
  /** Stamps createdAt/updatedAt; the real clock by default. */
  clock?: Clock;
  /** Where outbox events are published after each write (in order); kept only in `outbox` when absent. */
  bus?: EventBus;
  /** The `source` of published events. */
  source?: string;
  /** Logs events the bus refused (the relay logs and drops them too). */
  log?: Logger;
}

interface TimeoutEntry extends TimeoutRow {
  done: boolean;
}

/** The memory store: the port plus what a test inspects. */
export interface MemoryWorkflowStore extends WorkflowStorePort {
  /** Every event written, in write order (correlation id = run id unless the event set one). */
  readonly outbox: readonly OutboxJsonRow[];
  /** Resolves once every event written so far has been handed to the bus. */
  flushed(): Promise<void>;
}

/** Builds an empty in-memory store. */
export function createMemoryWorkflowStore(opts: MemoryWorkflowStoreOptions = {}): MemoryWorkflowStore {
  const clock = opts.clock ?? realClock;
  const runs = new Map<string, RunRecord>();
  const history = new Map<string, HistoryEntry[]>();
  let historySeq = 0;
  const timeouts = new Map<number, TimeoutEntry>();
  // Keyed by workflow and key, as the SQL table's primary key.
  const triggerKeys = new Map<string, StoredTriggerKey & { expiresAt: Date }>();
  const keyOf = (workflow: string, key: string) => JSON.stringify([workflow, key]);
  const outbox: OutboxJsonRow[] = [];
  let timeoutSeq = 0;
  // Publishing is chained so events leave in the order they were written, as the relay publishes in id order.
  let publishing: Promise<void> = Promise.resolve();

  /** Stored values are copies: a caller mutating what it passed or got back cannot change the store (as with rows). */
  const copy = <T>(v: T): T => structuredClone(v);

  function write(rows: OutboxJsonRow[]): void {
    outbox.push(...rows);
    const bus = opts.bus;
    if (!bus || rows.length === 0) return;
    publishing = publishing.then(async () => {
      for (const r of rows) {
        const route = r.subject ? r.subject.slice(r.type.length + 1).split('.') : undefined;
        await bus.publish(r.type, r.data, { id: r.id, correlationId: r.correlationId, source: opts.source ?? 'memory-store', ...(route ? { route } : {}) }).catch((err) => opts.log?.warn({ err, type: r.type }, 'event refused by the bus; dropped'));
      }
    });
  }

  function arm(run: RunRecord, at: Date): void {
    const id = ++timeoutSeq;
    timeouts.set(id, { id, runId: run.runId, workflow: run.workflow, status: run.status, expiresAt: new Date(at.getTime()), done: false });
  }

  /** A history row of the run as written; the object only when this change wrote it, as in SQL. */
  function addHistory(run: RunRecord, objectWritten: boolean): void {
    const rows = history.get(run.runId) ?? [];
    const { runId, version, status, runState, statusDescription, reason } = run;
    rows.push({ id: ++historySeq, runId, version, status, runState, statusDescription, reason, object: objectWritten ? copy(run.object) : null, createdAt: run.updatedAt });
    history.set(run.runId, rows);
  }

  function activeRun(workflow: string, foreignId: string): RunRecord | undefined {
    for (const r of runs.values()) if (r.workflow === workflow && r.foreignId === foreignId && ACTIVE_RUN_STATES.includes(r.runState)) return r;
    return undefined;
  }

  /** Why a compare-and-set missed, worded as the SQL adapter words it. */
  function miss(runId: string, expectedVersion: number | undefined): never {
    const cur = runs.get(runId);
    if (!cur) throw new NotFound(`workflow run '${runId}'`);
    if (expectedVersion !== undefined && cur.version !== expectedVersion) throw new Conflict(`workflow run '${runId}' is at version ${cur.version}, not ${expectedVersion}`, { runId, expectedVersion, currentVersion: cur.version });
    throw new Conflict(`workflow run '${runId}' changed concurrently`, { runId, expectedVersion, currentVersion: cur.version });
  }

  return {
    outbox,
    flushed: () => publishing,

    async createRun(input, events, armAt) {
      const { runState } = input;
      assertRunStorable({ foreignId: input.foreignId, object: input.object, statusDescription: input.statusDescription });
      const k = input.triggerKey;
      if (k && triggerKeys.has(keyOf(input.workflow, k.key))) throw new TriggerKeyTaken(input.workflow, k.key);
      const active = activeRun(input.workflow, input.foreignId);
      if (active) throw new Conflict(`workflow '${input.workflow}' already has an active run for foreign id '${input.foreignId}'`, { activeRunId: active.runId, workflow: input.workflow, foreignId: input.foreignId });
      const now = clock.date();
      const run: RunRecord = { runId: newId(), workflow: input.workflow, foreignId: input.foreignId, status: input.status, runState, object: copy(input.object ?? null), version: 1, statusDescription: input.statusDescription ?? null, reason: null, createdAt: now, updatedAt: now };
      const created = RunCreated.outbox({ runId: run.runId, workflow: run.workflow, foreignId: run.foreignId, status: run.status, runState, version: 1 });
      // Built before anything is stored: an event the bus could never carry fails the write, as in SQL.
      const rows = toOutboxJsonRows([created, ...events(copy(run))], run.runId);
      runs.set(run.runId, run);
      addHistory(run, true);
      if (armAt) arm(run, armAt);
      if (k) triggerKeys.set(keyOf(run.workflow, k.key), { requestHash: k.requestHash, runId: run.runId, status: run.status, runState: run.runState, expiresAt: new Date(k.expiresAt.getTime()) });
      write(rows);
      return copy(run);
    },

    async findTriggerKey(workflow, key, now) {
      const found = triggerKeys.get(keyOf(workflow, key));
      if (!found) return undefined;
      if (found.expiresAt.getTime() <= now.getTime()) {
        triggerKeys.delete(keyOf(workflow, key));
        return undefined;
      }
      const { expiresAt: _, ...stored } = found;
      return stored;
    },

    async deleteExpiredTriggerKeys(now, limit) {
      const doomed = [...triggerKeys.entries()].filter(([, v]) => v.expiresAt.getTime() <= now.getTime()).sort(([, a], [, b]) => a.expiresAt.getTime() - b.expiresAt.getTime()).slice(0, limit);
      for (const [id] of doomed) triggerKeys.delete(id);
      return doomed.length;
    },

    async move(current, patch, events, plan) {
      assertRunStorable({ object: patch.object, statusDescription: patch.statusDescription, reason: patch.reason });
      const cur = runs.get(current.runId);
      if (!cur || cur.version !== current.version) miss(current.runId, current.version);
      if (patch.runState !== undefined && !runStatesLeadingTo(patch.runState).includes(cur.runState)) miss(current.runId, undefined);
      const after: RunRecord = { ...cur, version: cur.version + 1, updatedAt: clock.date() };
      if (patch.status !== undefined) after.status = patch.status;
      if (patch.runState !== undefined) after.runState = patch.runState;
      if (patch.object !== undefined) after.object = copy(patch.object ?? null);
      if (patch.statusDescription !== undefined) after.statusDescription = patch.statusDescription;
      if (patch.reason !== undefined) after.reason = patch.reason;
      const rows = toOutboxJsonRows(events(copy(after)), after.runId);
      runs.set(after.runId, after);
      addHistory(after, patch.object !== undefined);
      if (plan.cancel) for (const t of timeouts.values()) if (t.runId === after.runId) timeouts.delete(t.id);
      if (plan.armAt) arm(after, plan.armAt);
      write(rows);
      return copy(after);
    },

    async lookup(runId) {
      const r = runs.get(runId);
      return r && copy(r);
    },

    async latest(workflow, foreignId) {
      let best: RunRecord | undefined;
      // Newest by creation; within one millisecond the later insert (the map keeps insertion order) wins.
      for (const r of runs.values()) {
        if (r.workflow !== workflow || r.foreignId !== foreignId) continue;
        if (!best || r.createdAt >= best.createdAt) best = r;
      }
      return best && copy(best);
    },

    async history(runId) {
      return (history.get(runId) ?? []).map((h) => ({ ...h, object: copy(h.object), createdAt: new Date(h.createdAt) }));
    },

    async runsAt(workflow, status, limit) {
      const found = [...runs.values()].filter((r) => r.workflow === workflow && r.status === status && r.runState === 'running');
      // A stable sort: runs created in the same millisecond stay in insertion order (SQL has microseconds for that).
      found.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
      return found.slice(0, limit).map(copy);
    },

    async pausedByErrorsBefore(before, limit) {
      const found = [...runs.values()].filter((r) => r.runState === 'paused' && r.updatedAt < before && (r.reason ?? '').startsWith(ERROR_PAUSE_PREFIX));
      found.sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime());
      return found.slice(0, limit).map(copy);
    },

    async deleteData(runId, scrubbed, events) {
      const cur = runs.get(runId);
      if (!cur) throw new NotFound(`workflow run '${runId}'`);
      if (!runStatesLeadingTo('requestedDataDeleted').includes(cur.runState)) miss(runId, undefined);
      const after: RunRecord = { ...cur, object: copy(scrubbed ?? null), runState: 'dataDeleted', version: cur.version + 1, updatedAt: clock.date() };
      const rows = toOutboxJsonRows(events(copy(after)), runId);
      runs.set(runId, after);
      for (const h of history.get(runId) ?? []) h.object = null;
      addHistory(after, true);
      write(rows);
      return copy(after);
    },

    async expiredTimeouts(now, limit) {
      const due = [...timeouts.values()].filter((t) => !t.done && t.expiresAt <= now);
      due.sort((a, b) => a.expiresAt.getTime() - b.expiresAt.getTime() || a.id - b.id);
      return due.slice(0, limit).map(({ done: _done, ...t }) => ({ ...t, expiresAt: new Date(t.expiresAt) }));
    },

    async nextTimeoutAt() {
      let first: Date | undefined;
      for (const t of timeouts.values()) if (!t.done && (!first || t.expiresAt < first)) first = t.expiresAt;
      return first && new Date(first);
    },

    async completeTimeout(id) {
      const t = timeouts.get(id);
      if (!t || t.done) return false;
      t.done = true;
      return true;
    },
  };
}
