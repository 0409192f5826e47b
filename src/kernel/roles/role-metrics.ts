/** The Roles metrics of one instance (Prometheus naming: counters end in _total). */
import { Counter, Gauge, type Registry } from 'prom-client';

/** Handles the role runners update. */
export interface RoleMetrics {
  held: Gauge<'set'>;
  acquired: Counter<'set'>;
  lost: Counter<'set' | 'reason'>;
  released: Counter<'set' | 'reason'>;
  members: Gauge;
}

/** Registers the series on `registry` (once per registry). */
export function createRoleMetrics(registry: Registry): RoleMetrics {
  const registers = [registry];
  return {
    held: new Gauge({ name: 'roles_held', help: 'Roles this instance holds now, by role set (a plain role is its own set)', labelNames: ['set'] as const, registers }),
    acquired: new Counter({ name: 'roles_acquired_total', help: 'Role leases acquired by this instance, by role set', labelNames: ['set'] as const, registers }),
    lost: new Counter({ name: 'roles_lost_total', help: 'Roles this instance lost while holding them (lease expired or taken), by role set and reason', labelNames: ['set', 'reason'] as const, registers }),
    released: new Counter({ name: 'roles_released_total', help: 'Roles this instance gave up (stopped, handed_over, work_ended, work_failed), by role set and reason', labelNames: ['set', 'reason'] as const, registers }),
    members: new Gauge({ name: 'roles_members', help: 'Live members of the role membership as this instance sees them (0 until it joins)', registers }),
  };
}
