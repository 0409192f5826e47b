/** Adapts the record store to the engine's WorkflowStorePort (store-port.ts): same operations, the engine's argument order. */
import { Invalid } from '../../kernel/index.ts';
import type { RecordStore } from './store.ts';
import type { WorkflowStorePort } from './store-port.ts';

/** The record store as the engine calls it. */
export function engineStorePort(store: RecordStore): WorkflowStorePort {
  return {
    createRun(input, events, armAt) {
      const { runState } = input;
      if (runState !== 'initiated' && runState !== 'running') throw new Invalid(`a run starts initiated or running, not ${runState}`, [{ path: 'runState', message: 'initiated or running' }]);
      // The store writes workflow.run.created itself; the engine adds status_changed, which starts the first step.
      return store.start({ ...input, runState }, events, armAt);
    },
    move: (current, patch, events, timeouts) => store.move({ ...current, statusDescription: current.statusDescription ?? null, reason: current.reason ?? null }, patch, events, timeouts),
    deleteData: (runId, scrubbed, events) => store.deleteData(runId, scrubbed, { events }),
    lookup: (runId) => store.lookup(runId),
    latest: (workflow, foreignId) => store.latest(workflow, foreignId),
    history: (runId) => store.history(runId),
    runsAt: (workflow, status, limit) => store.runsAt(workflow, status, limit),
    pausedByErrorsBefore: (before, limit) => store.pausedByErrorsBefore(before, limit),
    expiredTimeouts: (now, limit) => store.expiredTimeouts(now, limit),
    async completeTimeout(id) {
      await store.completeTimeout(id);
    },
  };
}
