/** The kernel's public surface: modules import from here and nowhere else in the kernel. */
export * from './errors.ts';
export type * from './bus/port.ts';
export type * from './queue/port.ts';
export type * from './kv/port.ts';
export type * from './db/port.ts';
export type { Module, ModuleContext, CliClient } from './module.ts';
export type { Resources } from './resources.ts';
export type { Logger } from './log.ts';
export { ActionRegistry, type ActionDefinition } from './actions.ts';
export { createRouter } from './http/router.ts';
export type { AppEnv } from './http/app-env.ts';
export { enabledOnly } from './config/schema.ts';
export { retry, isTransient } from './retry.ts';
export { sleep, monotonicMs } from './time.ts';
export { newId } from './ids.ts';
export { zodIssues } from './validation.ts';
export { renderTable } from './cli/table.ts';
export { enqueueEvent, type OutboxEvent } from './outbox.ts';
