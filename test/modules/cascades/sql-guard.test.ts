/** The lexical check on a session's SQL: what it lets through and what it refuses, with the reason a user sees. */
import { describe, expect, it } from 'vitest';
import { refuseSessionSql } from '../../../src/modules/cascades/model/sql-guard.ts';

describe('session SQL check', () => {
  it.each([
    'select * from _load',
    'SELECT id, upper(name) AS name FROM _seed WHERE id > 1 ORDER BY id;',
    "select * from (values (1, 'a;b'), (2, 'it''s')) as t(id, name)",
    'with x as (select count(*) as n from _a) select n from x',
    'table _load',
    'select "update" from _weird -- a quoted name is a name, a comment is skipped: delete',
    'select cast(n as numeric(10, 2)), jsonb_array_length(tags) from _a /* set_config( */',
    'select row_number() over (partition by k order by v) from _a',
  ])('accepts %s', (text) => {
    expect(refuseSessionSql(text)).toBeUndefined();
  });

  it.each([
    ['select 1; select 2', /one statement only/],
    ['insert into _a values (1)', /only a query/],
    ['with x as (delete from _a returning *) select * from x', /'delete' is not allowed/],
    ['select * into _b from _a', /'into' is not allowed/],
    ["select set_config('role', 'postgres', false)", /function 'set_config' is not allowed/],
    ['select "set_config"(\'role\', \'postgres\', false)', /function 'set_config' is not allowed/],
    ["select query_to_xml('select 1', true, true, '')", /function 'query_to_xml' is not allowed/],
    ['select public.f(1)', /schema-qualified functions/],
    ['select * from pg_catalog.pg_roles', /system catalogs/],
    ['select * from information_schema.tables', /system catalogs|'information_schema'/],
    ['select $$x$$', /dollar-quoted/],
    ["select E'\\x41'", /literals are not allowed/],
    ["select 'unclosed", /unclosed string/],
    ['select 1 /* open', /unclosed \/\* comment/],
    ['select 1 for update', /'update' is not allowed/],
  ])('refuses %s', (text, reason) => {
    expect(refuseSessionSql(text)).toMatch(reason);
  });
});
