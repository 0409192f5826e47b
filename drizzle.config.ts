/** drizzle-kit configuration: the kernel's tables and every module's schema.ts, SQL migrations into ./drizzle. */
import { defineConfig } from 'drizzle-kit';

// After `drizzle-kit generate`, run `bun scripts/embed-migrations.ts` (or just `bun run db:generate`):
// the single binary has no drizzle/ folder and applies the copies embedded in src/kernel/db/migrations.gen.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/kernel/db/schema.ts', './src/modules/*/schema.ts', './src/modules/*/store/schema.ts'],
  out: './drizzle',
  strict: true,
  verbose: true,
});
