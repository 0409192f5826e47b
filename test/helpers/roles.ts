/** Kernel Roles for in-process tests: one per simulated instance, each with its own lease owner and metrics registry. */
import { Registry } from 'prom-client';
import { KvLeases } from '../../src/kernel/kv/leases.ts';
import type { KvStore } from '../../src/kernel/kv/port.ts';
import { createLogger, type Logger } from '../../src/kernel/log.ts';
import { createRoles } from '../../src/kernel/roles/roles.ts';
import type { Roles } from '../../src/kernel/roles/types.ts';

/** Roles of the instance `owner` over `kv`; `registry` receives its metrics (a fresh one by default). */
export function testRoles(kv: KvStore, owner: string, opts: { registry?: Registry; log?: Logger; heartbeatMs?: number; memberTimeoutMs?: number } = {}): Roles {
  return createRoles({
    leases: new KvLeases(kv, owner),
    kv,
    owner,
    registry: opts.registry ?? new Registry(),
    log: opts.log ?? createLogger({ level: 'silent' }),
    heartbeatMs: opts.heartbeatMs,
    memberTimeoutMs: opts.memberTimeoutMs,
  });
}
