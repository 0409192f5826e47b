/** Every module's migration journal, for tests that build stores on a database directly (serve applies the enabled ones). */
import type { MigrationSet } from '../../src/kernel/db/migration.ts';
import { migrations as agents } from '../../src/modules/agents/store/migrations.gen.ts';
import { migrations as breeder } from '../../src/modules/breeder/store/migrations.gen.ts';
import { migrations as cascades } from '../../src/modules/cascades/store/migrations.gen.ts';
import { migrations as workflow } from '../../src/modules/workflow/store/migrations.gen.ts';

/** All module journals in registration order (src/main.ts); the kernel's is applied first by `migrate` itself. */
export const ALL_MODULE_MIGRATIONS: readonly MigrationSet[] = [
  { module: 'workflow', migrations: workflow },
  { module: 'cascades', migrations: cascades },
  { module: 'breeder', migrations: breeder },
  { module: 'agents', migrations: agents },
];
