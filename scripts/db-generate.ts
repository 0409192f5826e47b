/**
 * `bun run db:generate [-- --name NAME]`: runs drizzle-kit generate once per migration owner (the kernel and each
 * module with store/schema.ts), each with its own journal beside its schema, then embeds the SQL for the binary.
 * Extra arguments go to every drizzle-kit call; only owners whose schema changed get a new migration.
 */
import { dbOwners, repoRoot } from './db-owners.ts';

const extra = process.argv.slice(2);
for (const owner of dbOwners()) {
  console.log(`== ${owner.name} (${owner.schema} -> ${owner.out}/)`);
  const proc = Bun.spawnSync(['bun', 'x', 'drizzle-kit', 'generate', ...extra], { cwd: repoRoot, env: { ...process.env, DB_OWNER: owner.name }, stdout: 'inherit', stderr: 'inherit' });
  if (proc.exitCode !== 0) {
    console.error(`drizzle-kit generate failed for ${owner.name} (exit ${proc.exitCode})`);
    process.exit(1);
  }
}
const embed = Bun.spawnSync(['bun', 'scripts/embed-migrations.ts'], { cwd: repoRoot, stdout: 'inherit', stderr: 'inherit' });
process.exit(embed.exitCode ?? 1);
