/**
 * The workflow record store over the kernel's Database (PostgreSQL or PGlite): runs with version compare-and-set,
 * their history, the transactional outbox, timeouts and definitions. It is the engine's WorkflowStorePort plus the
 * reads the API and the console page through. The rest of the module imports the store only through this file.
 */
export { createRecordStore, type RecordStore } from './record-store.ts';
export type * from './types.ts';
export type { NewRun, NewTriggerKey, RunEvents, RunPatch, StoredTriggerKey, TimeoutPlan, TimeoutRow, WorkflowStorePort } from './port.ts';
export { TriggerKeyTaken } from './trigger-keys.ts';
export { createMemoryWorkflowStore, type MemoryWorkflowStore, type MemoryWorkflowStoreOptions } from './memory.ts';
