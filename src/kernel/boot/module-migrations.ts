/** Which module journals a process applies: those of the enabled modules, in registration order, after the kernel's. */
import type { KernelConfig } from '../config/schema.ts';
import type { MigrationSet } from '../db/migration.ts';
import type { Module } from '../module.ts';

/**
 * The migration sets of the modules enabled in `cfg`. A disabled module's tables are not created; enabling it later
 * creates them at the next start (serve migrates first), and its journal is tracked on its own from then on.
 */
export function enabledMigrations(modules: readonly Module[], cfg: Pick<KernelConfig, 'modules'>): MigrationSet[] {
  return modules.filter((m) => m.migrations && m.migrations.length > 0 && cfg.modules[m.name]?.enabled).map((m) => ({ module: m.name, migrations: m.migrations! }));
}
