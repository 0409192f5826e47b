/** The mesh's typed events (`mesh.<noun>.<verb>`), published by agents and leaders. */
import * as z from 'zod';
import { defineEvent } from '../../../kernel/index.ts';

const node = z.object({ node: z.string(), site: z.string().optional() });
const lease = z.object({ lease: z.string(), node: z.string(), token: z.number().int() });
const workload = z.object({ workload: z.string(), slot: z.number().int(), node: z.string(), token: z.number().int().optional(), reason: z.string().optional() });

/** A node's first heartbeat was seen. */
export const nodeJoined = defineEvent('mesh.node.joined', node);
/** A node missed heartbeats. */
export const nodeSuspect = defineEvent('mesh.node.suspect', node);
/** A node was silent for a lease duration. */
export const nodeDead = defineEvent('mesh.node.dead', node);
/** A node left gracefully. */
export const nodeLeft = defineEvent('mesh.node.left', node);
/** A lease was won by CAS; token is the fencing token. */
export const leaseAcquired = defineEvent('mesh.lease.acquired', lease);
/**
 * A lease was renewed. Sampled (runtime/renewal-sampler.ts): the first renewal of a tenure, then at most one per lease
 * every 30 s; `renewals` is how many renewals the event stands for.
 */
export const leaseRenewed = defineEvent('mesh.lease.renewed', lease.extend({ renewals: z.number().int().positive() }));
/** A holder lost its lease (deadline passed, record changed, released). */
export const leaseLost = defineEvent('mesh.lease.lost', lease.extend({ reason: z.string() }));
/** A replica started. */
export const workloadStarted = defineEvent('mesh.workload.started', workload);
/** A replica stopped. */
export const workloadStopped = defineEvent('mesh.workload.stopped', workload);
/** A replica was stopped because a higher token holds (or an operator fenced) its slot; one per duplicate. */
export const workloadFenced = defineEvent('mesh.workload.fenced', workload);
/** A replica was moved by an operator or a drain. */
export const workloadMoved = defineEvent('mesh.workload.moved', z.object({ workload: z.string(), from: z.string().optional(), to: z.string().optional() }));
/** A holder could not reach the KV for longer than its renew deadline. */
export const partitionDetected = defineEvent('mesh.partition.detected', z.object({ node: z.string(), sinceMs: z.number() }));
/** A holder reached the KV again. */
export const partitionHealed = defineEvent('mesh.partition.healed', z.object({ node: z.string(), afterMs: z.number() }));
