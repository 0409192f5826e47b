/**
 * DATABASE_READ_URL with a real streaming replica: a private primary (initdb) and its standby (pg_basebackup -R) run as
 * child processes on loopback ports. Run lists and counts are served by the replica; writes and the engine's reads
 * go to the primary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { createPostgresDatabase } from '../../src/kernel/db/postgres-database.ts';
import type { Database } from '../../src/kernel/db/port.ts';
import { loadConfig } from '../../src/kernel/config/load.ts';
import { ConfigError } from '../../src/kernel/config/load.ts';
import { eventually, rejection } from '../helpers/async.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/private-postgres.ts';
import { runReaders } from '../../src/modules/workflow/store/queries.ts';
import { ALL_MODULE_MIGRATIONS } from '../helpers/module-migrations.ts';

let primary: PrivatePostgres;
let replica: PrivatePostgres;
let db: Database;

beforeAll(async () => {
  primary = await startPrivatePostgres({ database: 'capstan' });
  replica = await startPrivatePostgres({ replicaOf: primary, database: 'capstan' });
  db = await createPostgresDatabase({ url: primary.url, readUrl: replica.url, max: 2 });
  await db.migrate(ALL_MODULE_MIGRATIONS);
}, 180_000);

afterAll(async () => {
  await db?.close();
  await replica?.destroy();
  await primary?.destroy();
});

/** Inserts a run row on the primary (the columns the list reads). */
async function insertRun(runId: string): Promise<void> {
  await db.query(
    `INSERT INTO workflow_runs (run_id, workflow, foreign_id, run_state, status, version) VALUES ($1::text, 'replicated', $1::text, 'running', 'a', 1)`,
    [runId],
  );
}

describe('read replica (DATABASE_READ_URL)', () => {
  it('the replica is a read-only standby of the primary', async () => {
    const sql = postgres(replica.url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<{ standby: boolean }[]>`SELECT pg_is_in_recovery() AS standby`;
      expect(row!.standby).toBe(true);
      expect(String(await rejection(sql`CREATE TABLE nope (id int)`))).toMatch(/read-only transaction/);
    } finally {
      await sql.end();
    }
    expect(await rejection(db.readDb.execute('CREATE TABLE nope (id int)'))).toBeInstanceOf(Error);
  });

  it('run lists and counts read from the replica, lookups from the primary', async () => {
    const readers = runReaders(db);
    await insertRun('r-1');
    // The primary has the row at once; lookup reads there.
    expect((await readers.lookup('r-1'))?.runId).toBe('r-1');
    // The list shows it once the standby has replayed the WAL.
    await eventually('the replica has the run', async () => ((await readers.list({ workflow: 'replicated' })).runs.length === 1 ? true : undefined));
    // Proof of where the list reads: with WAL replay paused on the standby, a new run is on the primary and in lookup,
    // but not in the list or the counts until replay resumes.
    const admin = postgres(replica.url, { max: 1, onnotice: () => {} });
    try {
      await admin`SELECT pg_wal_replay_pause()`;
      await insertRun('r-2');
      expect((await readers.lookup('r-2'))?.runId).toBe('r-2');
      expect((await readers.list({ workflow: 'replicated' })).runs.map((r) => r.runId)).toEqual(['r-1']);
      expect((await readers.countByRunState('replicated')).running).toBe(1);
      await admin`SELECT pg_wal_replay_resume()`;
      await eventually('replay resumes', async () => ((await readers.list({ workflow: 'replicated' })).runs.length === 2 ? true : undefined));
      expect((await readers.countByRunState('replicated')).running).toBe(2);
    } finally {
      await admin`SELECT pg_wal_replay_resume()`.catch(() => {});
      await admin.end();
    }
  });

  it('config: DATABASE_READ_URL sets database.readUrl, must be a postgres URL, and needs DATABASE_URL', () => {
    const env = { DATABASE_URL: 'postgres://p@127.0.0.1/db', REDIS_URL: 'redis://127.0.0.1', NATS_URL: 'nats://127.0.0.1', CAPSTAN_AUTH__TOKENS: '[{name: t, sha256: ' + 'a'.repeat(64) + ', scopes: [admin]}]' };
    expect(loadConfig([], { env: { ...env, DATABASE_READ_URL: 'postgres://r@127.0.0.1/db' } }).database.readUrl).toBe('postgres://r@127.0.0.1/db');
    const bad = (() => {
      try {
        loadConfig([], { env: { ...env, DATABASE_READ_URL: 'mysql://r/db' } });
      } catch (err) {
        return err;
      }
    })() as ConfigError;
    expect(bad).toBeInstanceOf(ConfigError);
    expect(bad.issues[0]).toMatchObject({ path: 'database.readUrl' });
    expect(bad.issues[0]!.message).toContain('DATABASE_READ_URL');
    const alone = (() => {
      try {
        loadConfig([], { env: { DATABASE_READ_URL: 'postgres://r@127.0.0.1/db' } });
      } catch (err) {
        return err;
      }
    })() as ConfigError;
    expect(alone.issues.map((i) => i.path)).toContain('database.readUrl');
  });
});
