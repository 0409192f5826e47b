/** Credential rows: sealed secrets in, metadata out; only `open` returns secret material, and only to the loop. */
import { asc, eq } from 'drizzle-orm';
import { Conflict, newId, NotFound, type Database } from '../../../kernel/index.ts';
import { iso } from './rows.ts';
import { breederCredentials } from './schema.ts';

/** A credential as the API shows it: never the secret. */
export interface CredentialView {
  id: string;
  name: string;
  kind: string;
  createdAt: string;
}

const view = (r: typeof breederCredentials.$inferSelect): CredentialView => ({ id: r.id, name: r.name, kind: r.kind, createdAt: iso(r.createdAt)! });

/** Credential reads and writes. */
export function credentialRows(database: Database) {
  const { db } = database;
  return {
    /** Stores a sealed credential; Conflict when the name is taken. */
    async create(name: string, kind: string, sealed: string): Promise<CredentialView> {
      const rows = await db.insert(breederCredentials).values({ id: newId(), name, kind, secret: sealed }).onConflictDoNothing().returning();
      if (!rows[0]) throw new Conflict(`a credential named '${name}' exists`);
      return view(rows[0]);
    },
    /** Every credential's metadata. */
    async list(): Promise<CredentialView[]> {
      return (await db.select().from(breederCredentials).orderBy(asc(breederCredentials.name))).map(view);
    },
    /** One credential's metadata. */
    async get(name: string): Promise<CredentialView> {
      const [r] = await db.select().from(breederCredentials).where(eq(breederCredentials.name, name));
      if (!r) throw new NotFound(`credential '${name}'`);
      return view(r);
    },
    /** The sealed secret and kind, for the loop to unseal. */
    async sealed(name: string): Promise<{ kind: string; sealed: string }> {
      const [r] = await db.select().from(breederCredentials).where(eq(breederCredentials.name, name));
      if (!r) throw new NotFound(`credential '${name}'`);
      return { kind: r.kind, sealed: r.secret };
    },
    /** Deletes a credential. */
    async remove(name: string): Promise<void> {
      const gone = await db.delete(breederCredentials).where(eq(breederCredentials.name, name)).returning({ id: breederCredentials.id });
      if (!gone[0]) throw new NotFound(`credential '${name}'`);
    },
  };
}
