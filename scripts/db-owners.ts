/**
 * Who owns migrations: the kernel, and each module with a `store/schema.ts`. Each owner keeps its own drizzle
 * journal in a `migrations/` folder beside its schema, so modules add tables without sharing one journal.
 */
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';

export interface DbOwner {
  /** `kernel` or the module's name: the `module` column of kernel_migrations. */
  readonly name: string;
  /** The drizzle schema file, relative to the repository root. */
  readonly schema: string;
  /** The drizzle-kit output folder (SQL files and meta/), beside the schema. */
  readonly out: string;
  /** The generated TypeScript file embedding the SQL for the compiled binary. */
  readonly embedded: string;
}

// drizzle-kit loads its config (which imports this file) as CommonJS, where import.meta has no dirname.
export const repoRoot = resolve(typeof import.meta.dirname === 'string' ? import.meta.dirname : __dirname, '..');

/** The kernel first, then the modules in name order (the order of this list is not the apply order: serve decides). */
export function dbOwners(): DbOwner[] {
  const owners: DbOwner[] = [{ name: 'kernel', schema: 'src/kernel/db/schema.ts', out: 'src/kernel/db/migrations', embedded: 'src/kernel/db/migrations.gen.ts' }];
  const modules = resolve(repoRoot, 'src/modules');
  for (const name of readdirSync(modules).sort()) {
    const store = `src/modules/${name}/store`;
    if (!existsSync(resolve(repoRoot, store, 'schema.ts'))) continue;
    owners.push({ name, schema: `${store}/schema.ts`, out: `${store}/migrations`, embedded: `${store}/migrations.gen.ts` });
  }
  return owners;
}

/** The owner named by `name`, or an error listing the known ones. */
export function dbOwner(name: string | undefined): DbOwner {
  const owners = dbOwners();
  const found = owners.find((o) => o.name === name);
  if (!found) throw new Error(`set DB_OWNER to one of: ${owners.map((o) => o.name).join(', ')} (got ${name ?? 'nothing'}); or run \`bun run db:generate\` for all of them`);
  return found;
}
