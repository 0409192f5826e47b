/** Saved workflow definitions: upsert with a version that goes up on every save. */
import { asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../../kernel/index.ts';
import { workflowDefinitions } from './schema.ts';
import type { StoredDefinition } from './types.ts';

const d = workflowDefinitions;

/** The definition store. */
export function definitionStore(db: Database) {
  return {
    /** Inserts the definition at version 1, or replaces kind and spec and increments the version. */
    async saveDefinition(name: string, kind: string, spec: unknown): Promise<StoredDefinition> {
      const [row] = await db.db
        .insert(d)
        .values({ name, kind, spec })
        .onConflictDoUpdate({ target: d.name, set: { kind, spec, version: sql`${d.version} + 1`, updatedAt: sql`now()` } })
        .returning();
      return row!;
    },

    /** The definition with this name, or undefined. */
    async getDefinition(name: string): Promise<StoredDefinition | undefined> {
      const [row] = await db.db.select().from(d).where(eq(d.name, name));
      return row;
    },

    /** Every definition, by name. */
    async listDefinitions(): Promise<StoredDefinition[]> {
      return db.db.select().from(d).orderBy(asc(d.name));
    },
  };
}
