/** A throwaway PostgreSQL database per test file, dropped afterwards. */
import postgres from 'postgres';
import { PG_URL, uniqueName } from './env.ts';

/** Creates a fresh database on the local server and returns its URL and a drop function. */
export async function createTestDatabase(prefix = 'capstan'): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = uniqueName(prefix).toLowerCase();
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const a = postgres(PG_URL, { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await a.end();
    },
  };
}
