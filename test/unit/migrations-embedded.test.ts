/**
 * Each migration owner (scripts/db-owners.ts) has its own drizzle journal beside its schema. The binary applies the
 * copies in each owner's migrations.gen.ts, which must match the SQL files exactly, and the schema must not have
 * drifted from the journal's last snapshot (a changed schema.ts without `bun run db:generate`).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateDrizzleJson, generateMigration } from 'drizzle-kit/api';
import { describe, expect, it } from 'vitest';
import { dbOwners, repoRoot } from '../../scripts/db-owners.ts';
import { readJournal, renderEmbedded } from '../../scripts/embed-migrations.ts';
import { splitStatements } from '../../src/kernel/db/migrator.ts';
import { LEGACY_TAGS } from '../../src/kernel/db/legacy-journal.ts';
import { MODULES } from '../../src/main.ts';
import { ALL_MODULE_MIGRATIONS } from '../helpers/module-migrations.ts';

const owners = dbOwners();

describe('per-owner migrations', () => {
  it('are found for the kernel and every module with store/schema.ts, and each module hands its journal to the kernel', () => {
    expect(owners.map((o) => o.name)).toEqual(['kernel', 'agents', 'breeder', 'cascades', 'workflow']);
    const wired = MODULES.filter((m) => m.migrations).map((m) => m.name);
    expect([...wired].sort()).toEqual(owners.slice(1).map((o) => o.name));
    // The tests' list (test/helpers/module-migrations.ts) is the same journals in registration order.
    expect(ALL_MODULE_MIGRATIONS).toEqual(MODULES.filter((m) => m.migrations).map((m) => ({ module: m.name, migrations: m.migrations })));
  });

  it.each(owners.map((o) => [o.name, o] as const))('%s: migrations.gen.ts is an exact copy of its journal (re-run `bun run db:generate` if this fails)', (_name, owner) => {
    expect(readJournal(owner).length).toBeGreaterThan(0);
    expect(readFileSync(resolve(repoRoot, owner.embedded), 'utf8')).toBe(renderEmbedded(owner));
  });

  it.each(owners.map((o) => [o.name, o] as const))('%s: the schema has no change that drizzle-kit would still generate', async (_name, owner) => {
    const dir = resolve(repoRoot, owner.out);
    const journal = JSON.parse(readFileSync(resolve(dir, 'meta/_journal.json'), 'utf8')) as { entries: { idx: number }[] };
    const last = Math.max(...journal.entries.map((e) => e.idx));
    const snapshot = JSON.parse(readFileSync(resolve(dir, `meta/${String(last).padStart(4, '0')}_snapshot.json`), 'utf8'));
    const schema = (await import(resolve(repoRoot, owner.schema))) as Record<string, unknown>;
    const current = generateDrizzleJson(schema, snapshot.id);
    expect(await generateMigration(snapshot, current)).toEqual([]);
  });

  it('every tag of the old single journal maps to a migration of its owner with the same place in history', () => {
    for (const [old, to] of Object.entries(LEGACY_TAGS)) {
      const owner = owners.find((o) => o.name === to.module);
      expect(owner, old).toBeDefined();
      expect(readJournal(owner!).map((m) => m.tag), old).toContain(to.tag);
      expect(to.tag.slice(5), old).toBe(old.slice(5));
    }
  });

  it('split into statements on drizzle breakpoints, without empty pieces', () => {
    const sql = 'CREATE TABLE a (x int);\n--> statement-breakpoint\nCREATE INDEX i ON a (x);\n--> statement-breakpoint\n';
    expect(splitStatements(sql)).toEqual(['CREATE TABLE a (x int);', 'CREATE INDEX i ON a (x);']);
  });
});
