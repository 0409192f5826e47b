/**
 * drizzle-kit configuration for ONE migration owner, named by DB_OWNER (`kernel` or a module with store/schema.ts):
 * its schema in, its own journal out beside it. `bun run db:generate` runs drizzle-kit once per owner
 * (scripts/db-generate.ts) and then embeds the SQL for the single binary.
 */
import { defineConfig } from 'drizzle-kit';
import { dbOwner } from './scripts/db-owners.ts';

const owner = dbOwner(process.env.DB_OWNER);

export default defineConfig({
  dialect: 'postgresql',
  schema: `./${owner.schema}`,
  out: `./${owner.out}`,
  strict: true,
  verbose: true,
});
