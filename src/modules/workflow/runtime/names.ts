/**
 * Every name the workflow module derives from user-chosen names for the bus, leases and KV: consumer roles (lease
 * keys), their durables, connector roles and durables, schedule slot keys. Workflow, status, connector and schedule
 * names may each have 64 characters (code-defined ones any characters), so each derived name goes through the
 * kernel's boundedName: short, valid names keep the form they always had, longer or odd ones become a readable
 * prefix plus a hash of the whole. The shard suffix stays readable at the end.
 */
import { boundedName, fnv1a, MAX_DURABLE_NAME } from '../../../kernel/index.ts';
import type { WorkflowSpec } from '../model/builder.ts';

/** `base` bounded so that `base + suffix` fits in a durable name; `suffix` is ours (digits and dashes). */
function withSuffix(base: string, suffix: string): string {
  return boundedName(base, MAX_DURABLE_NAME - suffix.length) + suffix;
}

/** The role (lease key, durable name and metrics `process` label) of one consumer shard of a status's step. */
export function roleName(workflow: string, status: string, shard: number, of: number): string {
  return withSuffix(`${workflow}-${status}`, `-consumer-${shard + 1}-of-${of}`);
}

/** The role of one consumer shard of a connector (shards numbered from 0, as they always were). */
export function connectorRoleName(workflow: string, connector: string, shard: number, of: number): string {
  return withSuffix(`${workflow}-connector-${connector}`, `-${shard}-of-${of}`);
}

/** The durable a connector consumes through; `pattern` is given when the plain name is taken by another subject. */
export function connectorDurableName(workflow: string, connector: string, pattern?: string): string {
  const base = `wf-${workflow}-connector-${connector}`;
  if (pattern === undefined) return boundedName(base, MAX_DURABLE_NAME);
  // A short, stable tag per subject pattern.
  return withSuffix(base, `-${fnv1a(pattern).toString(16).padStart(8, '0')}`);
}

/** The KV key claiming one slot of a schedule: one key token per name, so `a.b`+`c` and `a`+`b.c` stay apart. */
export function scheduleSlotKey(workflow: string, schedule: string, at: Date): string {
  return `${boundedName(workflow, MAX_DURABLE_NAME)}.${boundedName(schedule, MAX_DURABLE_NAME)}.${at.getTime()}`;
}

/** A lease key or durable name a workflow's consumers use, and what in the workflow it comes from. */
export interface DerivedName {
  name: string;
  what: string;
}

/** Every lease key and durable name the consumers of `spec` use (roles are lease keys; step roles are also durables). */
export function derivedNames(spec: WorkflowSpec): DerivedName[] {
  const out: DerivedName[] = [];
  for (const [status, p] of spec.processes) {
    if (!p.step) continue;
    for (let i = 0; i < p.parallel; i++) out.push({ name: roleName(spec.name, status, i, p.parallel), what: `the consumer of status '${status}'` });
  }
  for (const c of spec.connectors) {
    if (c.source === undefined) continue;
    const n = c.parallel ?? 1;
    const what = `connector '${c.name}'`;
    for (let i = 0; i < n; i++) out.push({ name: connectorRoleName(spec.name, c.name, i, n), what });
    out.push({ name: connectorDurableName(spec.name, c.name), what });
  }
  return out;
}
