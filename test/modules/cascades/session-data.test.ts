/**
 * Per-session data schemas on real PostgreSQL: a sql phase's table, earlier outputs as tables, the read-only sql tool
 * with its row cap, what a session's SQL cannot reach (other schemas, the module's tables, its own role), child
 * sessions created once and the parent's wait, and the TTL cleanup that drops schema and role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../../src/kernel/db/port.ts';
import { createPostgresDatabase } from '../../../src/kernel/db/postgres-database.ts';
import { newId } from '../../../src/kernel/ids.ts';
import { checkDefinition } from '../../../src/modules/cascades/model/parse-definition.ts';
import { CascadeStore, ChildSessionStore, SessionDataStore } from '../../../src/modules/cascades/store/index.ts';
import { PG_URL, uniqueName } from '../../helpers/env.ts';
import { ALL_MODULE_MIGRATIONS } from '../../helpers/module-migrations.ts';

let db: Database;
let data: SessionDataStore;
let store: CascadeStore;
let children: ChildSessionStore;
const schema = uniqueName('cascd').toLowerCase();
const sessions: string[] = [];

beforeAll(async () => {
  db = await createPostgresDatabase({ url: PG_URL, schema });
  await db.migrate(ALL_MODULE_MIGRATIONS);
  data = new SessionDataStore(db, 2_000);
  store = new CascadeStore(db);
  children = new ChildSessionStore(db);
}, 180_000);
afterAll(async () => {
  // Roles are cluster-wide: drop every one this file made, whatever the tests left.
  for (const id of sessions) {
    const { schema: s, role } = SessionDataStore.names(id);
    await db?.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    await db?.query(`DROP ROLE IF EXISTS "${role}"`);
  }
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.close();
});

const SPEC = checkDefinition({ cascade_id: 'one', model: 'fake/m', phases: [{ name: 'a', instructions: 'A' }] });

async function session(): Promise<string> {
  const id = newId();
  sessions.push(id);
  await store.createSession(id, SPEC, {});
  await data.ensure(id);
  return id;
}

describe('per-session data schemas', () => {
  it('a sql phase replaces its table with the query result; outputs of earlier phases are tables too', async () => {
    const id = await session();
    await data.writeTables(id, [{ table: '_draft', rows: [{ id: 1, name: 'a', tags: ['x'] }, { id: 2, name: 'b', tags: [] }, { id: 3, name: null, tags: null }] }]);
    const r = await data.createTableAs(id, '_load', "select id, upper(name) as name, jsonb_array_length(tags) as n from _draft where id > 1 order by id", 1);
    expect(r.count).toBe(2);
    expect(r.rows).toEqual([{ id: 2, name: 'B', n: 0 }]);
    // Run again (a phase re-run after a crash): the same table, not an error and not twice the rows.
    const again = await data.createTableAs(id, '_load', 'select id, upper(name) as name from _draft where id > 1 order by id', 10);
    expect(again).toEqual({ count: 2, rows: [{ id: 2, name: 'B' }, { id: 3, name: null }] });
    const read = await data.readTable(id, '_load', 10);
    expect(read?.count).toBe(2);
    expect(await data.readTable(id, '_nope', 10)).toBeUndefined();
  });

  it('the sql tool reads only, and caps rows', async () => {
    const id = await session();
    await data.createTableAs(id, '_nums', 'select g as n from generate_series(1, 50) g', 5);
    const q = await data.query(id, 'select n from _nums order by n -- the first ones', 3);
    expect(q).toEqual({ rows: [{ n: 1 }, { n: 2 }, { n: 3 }], truncated: true });
    await expect(data.query(id, 'with x as (delete from _nums returning n) select * from x', 3)).rejects.toThrow(/'delete' is not allowed/);
    await expect(data.query(id, "select set_config('role', 'postgres', false)", 3)).rejects.toThrow(/function 'set_config' is not allowed/);
  });

  it("a session's SQL reaches neither the module's tables, nor another session's schema, nor the catalog", async () => {
    const a = await session();
    const b = await session();
    await data.createTableAs(a, '_secret', "select 'a-only' as v", 5);
    // The module's tables are in the connection's schema: not on the session's search path, and not granted.
    await expect(data.createTableAs(b, '_x', 'select * from cascades_sessions', 5)).rejects.toThrow(/does not exist/);
    await expect(data.createTableAs(b, '_x', `select * from ${schema}.cascades_sessions`, 5)).rejects.toThrow(/permission denied/);
    await expect(data.createTableAs(b, '_x', `select * from "${SessionDataStore.names(a).schema}"._secret`, 5)).rejects.toThrow(/permission denied/);
    await expect(data.query(b, 'select * from pg_catalog.pg_class', 5)).rejects.toThrow(/system catalogs/);
    await expect(data.query(b, "select query_to_xml('select 1', true, true, '')", 5)).rejects.toThrow(/function 'query_to_xml' is not allowed/);
    await expect(data.query(b, 'select 1; select 2', 5)).rejects.toThrow(/one statement only/);
    // A runaway query hits the statement timeout (2 s here).
    await expect(data.query(b, 'select count(*) from generate_series(1, 1000000000)', 5)).rejects.toThrow(/statement timeout/);
  });

  it('children are created once whatever the retries, and the parent waits until one of them ends', async () => {
    const parent = newId();
    const epochOf = async () => (await store.getSession(parent)).epoch;
    await store.createSession(parent, SPEC, {});
    await store.claim(parent, 'w1', 60_000);
    const kids = [0, 1].map((i) => ({ id: `${parent}.p.0.${i}`, spec: SPEC, inputs: {} }));
    expect(await children.create(parent, kids, false)).toEqual(kids.map((k) => k.id));
    expect(await children.create(parent, kids, false)).toEqual([]);
    expect((await children.list(parent, `${parent}.p.0.`)).map((k) => k.parentSessionId)).toEqual([parent, parent]);
    // Two children running: waiting for "fewer than 3" is over already, "fewer than 2" parks the parent.
    expect(await children.waitFor(parent, await epochOf(), 3)).toBe('go-on');
    expect(await children.waitFor(parent, await epochOf(), 2)).toBe('blocked');
    expect((await store.getSession(parent)).status).toBe('blocked');
    expect(await children.wakeParent(parent)).toBe(false);
    await store.cancel(kids[0]!.id, 'test');
    expect(await children.wakeParent(parent)).toBe(true);
    expect(await children.wakeParent(parent)).toBe(false);
    expect((await store.getSession(parent)).status).toBe('starting');
  });

  it('the sweeper wakes a parent whose child ended without waking it', async () => {
    const parent = newId();
    await store.createSession(parent, SPEC, {});
    const { session: s } = (await store.claim(parent, 'w1', 60_000))!;
    await children.create(parent, [{ id: `${parent}.p.0.0`, spec: SPEC, inputs: {} }], false);
    expect(await children.waitFor(parent, s.epoch, 1)).toBe('blocked');
    await store.cancel(`${parent}.p.0.0`, 'ended without telling its parent');
    expect(await children.wakeOverdue()).toContain(parent);
    expect((await store.getSession(parent)).status).toBe('starting');
  });

  it('the TTL cleanup drops the schema and the role of ended sessions only', async () => {
    const ended = await session();
    const running = await session();
    await data.createTableAs(ended, '_t', 'select 1 as x', 5);
    await store.cancel(ended, 'done');
    expect(await data.exists(ended)).toBe(true);
    // A TTL of an hour: the session ended just now, so nothing goes yet.
    await data.dropExpired(3_600_000);
    expect(await data.exists(ended)).toBe(true);
    await data.dropExpired(0);
    expect(await data.exists(ended)).toBe(false);
    const [role] = await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1::text', [SessionDataStore.names(ended).role]);
    expect(role).toBeUndefined();
    expect(await data.exists(running)).toBe(true);
  });
  it('needs CREATEROLE, not a superuser: with it a data phase runs; without it the error says what to grant', async () => {
    const dbName = new URL(PG_URL).pathname.slice(1);
    const made: { user: string; db: Database }[] = [];
    const asUser = async (createRole: boolean) => {
      const user = uniqueName(createRole ? 'cascd_cr' : 'cascd_nocr').toLowerCase();
      await db.query(`CREATE ROLE ${user} LOGIN ${createRole ? 'CREATEROLE' : ''}`);
      await db.query(`GRANT CREATE ON DATABASE "${dbName}" TO ${user}`);
      const url = new URL(PG_URL);
      url.username = user;
      url.password = '';
      const userDb = await createPostgresDatabase({ url: url.toString(), schema: user });
      made.push({ user, db: userDb });
      await userDb.migrate(ALL_MODULE_MIGRATIONS);
      return userDb;
    };
    try {
      const withRole = await asUser(true);
      const id = newId();
      sessions.push(id);
      await new CascadeStore(withRole).createSession(id, SPEC, {});
      const d = new SessionDataStore(withRole, 2_000);
      await d.ensure(id);
      await d.writeTables(id, [{ table: '_draft', rows: [{ n: 1 }, { n: 2 }] }]);
      expect(await d.createTableAs(id, '_sum', 'select sum(n)::int as total from _draft', 10)).toEqual({ count: 1, rows: [{ total: 3 }] });

      const without = await asUser(false);
      const other = newId();
      sessions.push(other);
      await new CascadeStore(without).createSession(other, SPEC, {});
      await expect(new SessionDataStore(without, 2_000).ensure(other)).rejects.toThrow(/need CREATEROLE \(ALTER ROLE <user> CREATEROLE/);
    } finally {
      for (const m of made) {
        await m.db.query(`DROP SCHEMA IF EXISTS ${m.user} CASCADE`).catch(() => undefined);
        await m.db.close();
        for (const id of sessions) await db.query(`DROP SCHEMA IF EXISTS "${SessionDataStore.names(id).schema}" CASCADE`);
        await db.query(`DROP OWNED BY ${m.user} CASCADE`);
        await db.query(`DROP ROLE ${m.user}`);
      }
    }
  });
});
