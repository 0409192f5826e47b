/**
 * Breeder lookup by id or name on real PostgreSQL: an id always finds its own breeder, even when another breeder's
 * name equals it (a row from before names of the id's shape were refused), and a name finds its breeder.
 */
import { describe, expect, it } from 'vitest';
import { NotFound } from '../../../src/kernel/index.ts';
import { parseDefinition } from '../../../src/modules/breeder/model/definition.ts';
import { breederStoreForFile } from '../../helpers/breeder-store.ts';

const fx = breederStoreForFile('breedlook');

const def = (name: string) =>
  parseDefinition({
    name,
    space: { x: { type: 'float', low: 0, high: 1 } },
    objectives: [{ name: 'v', direction: 'minimize', source: { http: { url: 'http://127.0.0.1:9/v', path: '$.v' } } }],
    effectuation: { http: { url: 'http://127.0.0.1:9/apply' } },
  });

describe('breeder lookup by id or name', () => {
  it('finds the breeder whose id it is, not one whose name shadows that id', async () => {
    const shadow = await fx.store.create(def('shadow'));
    const owner = await fx.store.create(def('owner'));
    // Names of the id's shape are refused by the definition; a legacy row can still have one.
    await fx.db.query(`UPDATE ${fx.schema}.breeder_breeders SET name = $1 WHERE id = $2`, [owner.id, shadow.id]);
    // An update writes a new row version at the end of the table: the owner now comes after the shadow in a scan,
    // which is what a lookup without the id-first rule returned.
    await fx.db.query(`UPDATE ${fx.schema}.breeder_breeders SET updated_at = now() WHERE id = $1`, [owner.id]);
    for (let i = 0; i < 5; i++) expect((await fx.store.get(owner.id)).name).toBe('owner');
    expect((await fx.store.get(shadow.id)).id).toBe(shadow.id);
    expect((await fx.store.get('owner')).id).toBe(owner.id);
    await expect(fx.store.get('nope')).rejects.toBeInstanceOf(NotFound);
  });
});
