/** The binary applies src/kernel/db/migrations.gen.ts; it must be an exact copy of drizzle/ (run `bun run db:generate`). */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrations } from '../../src/kernel/db/migrations.gen.ts';
import { splitStatements } from '../../src/kernel/db/migrator.ts';

const root = resolve(import.meta.dirname, '../..');
const journal = JSON.parse(readFileSync(resolve(root, 'drizzle/meta/_journal.json'), 'utf8')) as { entries: { idx: number; tag: string }[] };
const onDisk = [...journal.entries].sort((a, b) => a.idx - b.idx).map((e) => ({ tag: e.tag, sql: readFileSync(resolve(root, 'drizzle', `${e.tag}.sql`), 'utf8') }));

describe('embedded migrations', () => {
  it('match drizzle/ exactly, in journal order (re-run `bun run db:generate` if this fails)', () => {
    expect(onDisk.length).toBeGreaterThan(0);
    expect(migrations.map((m) => m.tag)).toEqual(onDisk.map((m) => m.tag));
    for (const [i, m] of onDisk.entries()) expect(migrations[i]?.sql, m.tag).toBe(m.sql);
  });

  it('split into statements on drizzle breakpoints, without empty pieces', () => {
    const sql = 'CREATE TABLE a (x int);\n--> statement-breakpoint\nCREATE INDEX i ON a (x);\n--> statement-breakpoint\n';
    expect(splitStatements(sql)).toEqual(['CREATE TABLE a (x int);', 'CREATE INDEX i ON a (x);']);
    expect(splitStatements(migrations[0]!.sql).length).toBeGreaterThan(1);
  });
});
