import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../server/storage/database';
import { loadVenueDetails, loadVenueDetailsPerRelation, type VenueDetails, type VenueRow } from '../../server/venues/venue-details';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database';

/** A stored row in the per-relation shape, so the two reads compare field for field. */
const asDetails = ({ menuJson, ...rest }: VenueRow): VenueDetails => ({ ...rest, menu: JSON.parse(menuJson) as VenueDetails['menu'] });
const byId = <T extends { id: string }>(rows: T[]) => [...rows].sort((a, b) => (a.id < b.id ? -1 : 1));

/**
 * The stored `detailsJson` is only worth reading if it is always what the relations say: every kind of
 * write to a venue, its menu or its specials (one row, many rows in one statement, a move between
 * venues, a cascade) must leave it equal to the per-relation read, on PostgreSQL and on PGlite.
 */
interface Opened {
  db: Database;
  close: () => Promise<void>;
  /** PostgreSQL only: a plain client on the default search_path, and the schema the tables are in. */
  outsider?: { connect: () => Promise<pg.Client>; schema: string };
}

function storedDetailsSuite(open: () => Promise<Opened>, opts: { outsider: boolean }) {
  let db: Database;
  let close: () => Promise<void>;
  let outsider: Opened['outsider'];
  const ids = ['vd-a', 'vd-b', 'vd-c'];

  beforeAll(async () => {
    ({ db, close, outsider } = await open());
    await db.prisma.venue.createMany({
      data: ids.map((id, i) => ({ id, slug: id, name: `Venue ${i}`, latitude: 40.7 + i / 1000, longitude: -74 })),
    });
  });
  afterAll(() => close());

  const expectStoredToMatch = async () => {
    const stored = byId((await loadVenueDetails(db.prisma, ids)).map(asDetails));
    const relations = byId(await loadVenueDetailsPerRelation(db.prisma, ids));
    expect(stored.map((v) => v.id)).toEqual(ids);
    expect(stored).toEqual(relations);
    return stored;
  };

  it('holds a new venue with no menu and no specials', async () => {
    const [a] = await expectStoredToMatch();
    expect(a).toMatchObject({ id: 'vd-a', name: 'Venue 0', menu: [], specials: [] });
  });

  it('follows menu items and specials written one at a time and many in one statement', async () => {
    await db.prisma.menuItem.create({ data: { id: 'm-1', venueId: 'vd-a', name: 'Spritz', category: 'cocktail', priceCents: 1100 } });
    await db.prisma.menuItem.createMany({
      data: [
        { id: 'm-2', venueId: 'vd-a', name: 'Ale', category: 'beer', priceCents: 600 },
        { id: 'm-3', venueId: 'vd-b', name: 'Kir', category: 'wine', priceCents: 900, description: 'with "cassis"' },
        { id: 'm-4', venueId: 'vd-b', name: 'Off', category: 'wine', priceCents: 900, available: false },
      ],
    });
    await db.prisma.special.createMany({
      data: [
        {
          id: 's-1',
          venueId: 'vd-a',
          title: 'Happy hour',
          priceCents: 500,
          daysOfWeek: [5, 6],
          validFrom: new Date('2026-12-01T18:00:00Z'),
        },
        { id: 's-2', venueId: 'vd-c', title: 'Quiz', daysOfWeek: [] },
      ],
    });
    const [a, b, c] = await expectStoredToMatch();
    expect(a!.menu.map((m) => m.name)).toEqual(['Ale', 'Spritz']);
    expect(b!.menu.map((m) => m.name)).toEqual(['Kir']);
    expect(a!.specials[0]).toMatchObject({ daysOfWeek: [5, 6], validFrom: '2026-12-01T18:00:00.000Z', validUntil: null });
    expect(c!.specials.map((s) => s.title)).toEqual(['Quiz']);
  });

  it('follows updates, moves between venues, availability, deletions and venue edits', async () => {
    await db.prisma.menuItem.update({ where: { id: 'm-1' }, data: { priceCents: 1200 } });
    await db.prisma.menuItem.update({ where: { id: 'm-3' }, data: { venueId: 'vd-c' } });
    await db.prisma.menuItem.updateMany({ where: { id: { in: ['m-2', 'm-4'] } }, data: { available: { set: true } } });
    await db.prisma.special.delete({ where: { id: 's-2' } });
    await db.prisma.venue.update({ where: { id: 'vd-b' }, data: { name: 'Renamed', address: '1 Main St' } });
    const [a, b, c] = await expectStoredToMatch();
    expect(a!.menu.find((m) => m.id === 'm-1')?.priceCents).toBe(1200);
    expect(b).toMatchObject({ name: 'Renamed', address: '1 Main St', menu: [{ id: 'm-4' }] });
    expect(c).toMatchObject({ menu: [{ id: 'm-3' }], specials: [] });
  });

  it('follows a venue deleted with its menu (cascade) and a write that names the column itself', async () => {
    await db.prisma.menuItem.deleteMany({ where: { venueId: 'vd-a' } });
    await db.prisma.$executeRawUnsafe(`UPDATE "venues" SET "detailsJson" = '{"forged":true}' WHERE "id" = 'vd-c'`);
    const [a, , c] = await expectStoredToMatch();
    expect(a!.menu).toEqual([]);
    expect(c).not.toHaveProperty('forged');
    await db.prisma.venue.delete({ where: { id: 'vd-b' } });
    expect((await loadVenueDetails(db.prisma, ids)).map((v) => v.id).sort()).toEqual(['vd-a', 'vd-c']);
  });

  if (opts.outsider) {
    it('stays true for a writer on another search_path (a psql session, a migration script)', async () => {
      const client = await outsider!.connect();
      try {
        await client.query(
          `INSERT INTO "${outsider!.schema}"."menu_items" (id, "venueId", name, category, "priceCents", "updatedAt")
           VALUES ('m-9', 'vd-c', 'Cola', 'soft', 300, now())`,
        );
      } finally {
        await client.end();
      }
      const stored = byId((await loadVenueDetails(db.prisma, ids)).map(asDetails));
      expect(stored.find((v) => v.id === 'vd-c')!.menu.map((m) => m.id)).toContain('m-9');
      expect(stored).toEqual(byId(await loadVenueDetailsPerRelation(db.prisma, ids)));
    });
  }
}

describe('stored venue details on PostgreSQL', { timeout: 60_000 }, () => {
  let t: TestDatabase;
  storedDetailsSuite(
    async () => {
      t = await createTestDatabase('details');
      return {
        db: t.db,
        close: () => t.drop(),
        outsider: {
          schema: t.schema,
          connect: async () => {
            const client = new pg.Client({ connectionString: t.url });
            await client.connect();
            return client;
          },
        },
      };
    },
    { outsider: true },
  );
});

describe('stored venue details on PGlite', { timeout: 120_000 }, () => {
  storedDetailsSuite(
    async () => {
      const db = await openDatabase({ DATABASE_URL: undefined, DATABASE_SCHEMA: 'public', PGLITE_DATA_DIR: '', PGLITE_IN_MEMORY: true });
      return { db, close: () => db.close() };
    },
    { outsider: false },
  );
});
