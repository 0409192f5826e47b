/** Target rows: a name, a kind and the connection (no secrets: credentials are referred to by name). */
import { asc, eq } from 'drizzle-orm';
import { Conflict, newId, NotFound, type Database } from '../../../kernel/index.ts';
import type { TargetInput } from '../model/target.ts';
import { iso } from './rows.ts';
import { breederTargets } from './schema.ts';

/** A target as the API shows it. */
export type TargetView = TargetInput & { id: string; createdAt: string };

const view = (r: typeof breederTargets.$inferSelect): TargetView => ({ ...(r.spec as TargetInput), id: r.id, createdAt: iso(r.createdAt)! });

/** Target reads and writes. */
export function targetRows(database: Database) {
  const { db } = database;
  return {
    /** Stores a target; Conflict when the name is taken. */
    async create(t: TargetInput): Promise<TargetView> {
      const rows = await db.insert(breederTargets).values({ id: newId(), name: t.name, kind: t.kind, spec: t }).onConflictDoNothing().returning();
      if (!rows[0]) throw new Conflict(`a target named '${t.name}' exists`);
      return view(rows[0]);
    },
    /** Every target, by name. */
    async list(): Promise<TargetView[]> {
      return (await db.select().from(breederTargets).orderBy(asc(breederTargets.name))).map(view);
    },
    /** One target. */
    async get(name: string): Promise<TargetView> {
      const [r] = await db.select().from(breederTargets).where(eq(breederTargets.name, name));
      if (!r) throw new NotFound(`target '${name}'`);
      return view(r);
    },
    /** Deletes a target. */
    async remove(name: string): Promise<void> {
      const gone = await db.delete(breederTargets).where(eq(breederTargets.name, name)).returning({ id: breederTargets.id });
      if (!gone[0]) throw new NotFound(`target '${name}'`);
    },
  };
}
