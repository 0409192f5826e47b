/** Runs the Database contract against PostgreSQL (a schema per fixture) and in-memory PGlite, plus adapter-only checks. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { connectWithRetry } from '../../src/kernel/boot/connect.ts';
import { Invalid, Unavailable } from '../../src/kernel/errors.ts';
import { pgliteAssets } from '../../src/kernel/db/pglite-assets.ts';
import { createPgliteDatabase } from '../../src/kernel/db/pglite-database.ts';
import type { Database } from '../../src/kernel/db/port.ts';
import { createPostgresDatabase } from '../../src/kernel/db/postgres-database.ts';
import { kernelOutbox } from '../../src/kernel/db/schema.ts';
import { PG_URL, uniqueName } from '../helpers/env.ts';
import { databaseContract } from './database-contract.ts';
import { rejection } from '../helpers/async.ts';
import { eventually, sleep } from '../kit/index.ts';

const filePrefix = uniqueName('dbt').toLowerCase();
const schemas: string[] = [];
const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });

afterAll(async () => {
  for (const s of schemas) await admin.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.end();
});

/** A fresh schema on database `test`; each Database opened on it acts as another instance. */
async function postgresFixture() {
  const schema = `${filePrefix}_${schemas.length}`;
  schemas.push(schema);
  const opened: Database[] = [];
  const open = async () => {
    const d = await createPostgresDatabase({ url: PG_URL, schema, max: 4 });
    opened.push(d);
    return d;
  };
  return {
    db: await open(),
    another: open,
    cleanup: async () => {
      for (const d of opened) await d.close();
    },
  };
}

databaseContract('postgres', postgresFixture, { multipleInstances: true });

databaseContract('pglite', async () => {
  const db = await createPgliteDatabase();
  return { db, cleanup: () => db.close() };
});

describe('PostgreSQL adapter beyond the contract', () => {
  it('puts every table, the migration record included, in the given schema', async () => {
    const fx = await postgresFixture();
    try {
      await fx.db.migrate();
      const rows = await admin`SELECT table_name FROM information_schema.tables WHERE table_schema = ${schemas.at(-1)!} ORDER BY table_name`;
      // Module tables (workflow_*) land there too; the kernel's own must be exactly these.
      expect(rows.map((r) => r.table_name).filter((t: string) => t.startsWith('kernel_'))).toEqual(['kernel_migrations', 'kernel_outbox']);
    } finally {
      await fx.cleanup();
    }
  });

  it('listen survives the loss of its connection, and unlisten still stops it afterwards', async () => {
    const fx = await postgresFixture();
    try {
      const channel = `chan_${Date.now().toString(36)}`;
      const stopped: string[] = [];
      const kept: string[] = [];
      const unlisten = await fx.db.listen(channel, (p) => stopped.push(p));
      await fx.db.listen(channel, (p) => kept.push(p));
      // Notifies again each round until heard: the listener may still be (re)connecting.
      const heardBy = (list: string[], payload: string) =>
        eventually(
          async () => {
            await fx.db.query(`SELECT pg_notify($1::text, $2::text)`, [channel, payload]);
            await sleep(50);
            return list.includes(payload);
          },
          { timeout: 20_000, interval: 0, what: `'${payload}' heard` },
        );
      await heardBy(kept, 'before');
      // As a PostgreSQL restart would: the server ends the LISTEN connection; postgres.js reconnects and listens again.
      const ended = await admin`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE query = ${`listen "${channel}"`}`;
      expect(ended.map((r) => r.ok)).toEqual([true]);
      await heardBy(stopped, 'after reconnect');
      await unlisten();
      const count = stopped.length;
      // The other listener on the same connection hears this one, so the stopped listener would have heard it too.
      await heardBy(kept, 'after unlisten');
      expect(stopped).toHaveLength(count);
    } finally {
      await fx.cleanup();
    }
  });

  it('rejects a schema name that would need quoting', async () => {
    await expect(createPostgresDatabase({ url: PG_URL, schema: 'Bad-Name"; drop' })).rejects.toBeInstanceOf(Invalid);
  });

  it('fails to open when the server is unreachable, and at start reports PostgreSQL and the URL without the password', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    const url = 'postgres://capstan:s3cret-pw@127.0.0.1:1/app';
    await expect(createPostgresDatabase({ url, connectTimeoutSeconds: 2 })).rejects.toThrow();
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const log = pino({ level: 'warn' }, sink);
    const err = await rejection(connectWithRetry('PostgreSQL', url, () => createPostgresDatabase({ url, connectTimeoutSeconds: 2 }), { timeoutMs: 1_000, log }));
    expect(err).toBeInstanceOf(Unavailable);
    const message = (err as Error).message;
    expect(message).toContain('PostgreSQL');
    expect(message).toContain('127.0.0.1:1');
    expect(message).not.toContain('s3cret-pw');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain('s3cret-pw');
  });
});

describe('PGlite adapter beyond the contract', () => {
  it('keeps data and the migration record across a restart when given a data directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'capstan-pglite-'));
    try {
      const first = await createPgliteDatabase({ dataDir: dir });
      expect((await first.migrate()).length).toBeGreaterThan(0);
      await first.db.insert(kernelOutbox).values({ eventId: 'kept', type: 't.x.y', data: { kept: true } });
      await first.close();
      const second = await createPgliteDatabase({ dataDir: dir });
      try {
        expect(await second.migrate()).toEqual([]);
        const rows = await second.db.select().from(kernelOutbox);
        expect(rows.map((r) => [r.eventId, r.data])).toEqual([['kept', { kept: true }]]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads its own assets outside a compiled binary', async () => {
    expect(await pgliteAssets()).toBeUndefined();
  });
});

