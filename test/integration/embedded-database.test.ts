import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/storage/database';
import { seedDemoData } from '../../server/storage/demo-seed';

const center = { centerLat: 40.7128, centerLng: -74.006 };
let dataDir: string;

const embedded = (dir: string, inMemory = false) =>
  openDatabase({ DATABASE_URL: undefined, DATABASE_SCHEMA: 'public', PGLITE_DATA_DIR: dir, PGLITE_IN_MEMORY: inMemory });

// PGlite boots its WebAssembly PostgreSQL (and initdb for a fresh folder) on every open: seconds each.
describe('embedded database (PGlite)', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    dataDir = path.join(await mkdtemp(path.join(tmpdir(), 'pglite-')), 'data');
  });
  afterAll(() => rm(path.dirname(dataDir), { recursive: true, force: true }));

  it('keeps migrated, seeded data across a restart without seeding twice', async () => {
    const first = await embedded(dataDir);
    expect(first.kind).toBe('pglite');
    await first.ping();
    const seeded = await seedDemoData(first.prisma, center);
    expect(seeded).toEqual({ created: true, venues: 12 });
    await first.close();

    const second = await embedded(dataDir);
    try {
      expect(await seedDemoData(second.prisma, center)).toEqual({ created: false, venues: 12 });
      expect(await second.prisma.venue.count()).toBe(12);
      expect(await second.prisma.user.count()).toBe(12);
    } finally {
      await second.close();
    }
  });

  it('gives every venue a staff account, a 5–8 item menu and a special every night', async () => {
    const db = await embedded(dataDir);
    try {
      const venues = await db.prisma.venue.findMany({
        include: { staff: { include: { user: true } }, menuItems: true, specials: true },
      });
      for (const venue of venues) {
        expect(venue.staff.map((s) => s.user.email)).toEqual([`staff+${venue.slug}@treatme.dev`]);
        expect(venue.menuItems.length).toBeGreaterThanOrEqual(5);
        expect(venue.menuItems.length).toBeLessThanOrEqual(8);
        const tonight = venue.specials.filter((s) => s.daysOfWeek.length === 0 || s.daysOfWeek.includes(new Date().getDay()));
        expect(tonight.length).toBeGreaterThanOrEqual(1);
        const km = Math.hypot((venue.latitude - center.centerLat) * 111, (venue.longitude - center.centerLng) * 84);
        expect(km).toBeLessThan(2.5);
      }
    } finally {
      await db.close();
    }
  });

  it('keeps nothing when in memory', async () => {
    const first = await embedded(dataDir, true);
    expect((await seedDemoData(first.prisma, center)).created).toBe(true);
    await first.close();
    const second = await embedded(dataDir, true);
    try {
      expect(await second.prisma.venue.count()).toBe(0);
    } finally {
      await second.close();
    }
  });
});
