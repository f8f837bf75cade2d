import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../server/storage/database';
import { seedDemoData } from '../../server/storage/demo-seed';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database';

const center = { centerLat: 40.7128, centerLng: -74.006 };

describe('demo seed on PostgreSQL', () => {
  let test: TestDatabase;
  let otherNode: Database;

  beforeAll(async () => {
    test = await createTestDatabase('demo_seed');
    otherNode = await openDatabase({ DATABASE_URL: test.url, DATABASE_SCHEMA: test.schema, PGLITE_DATA_DIR: '', PGLITE_IN_MEMORY: false });
  });
  afterAll(async () => {
    await otherNode.close();
    await test.drop();
  });

  it('seeds one set when two nodes start at the same time', async () => {
    const results = await Promise.all([seedDemoData(test.db.prisma, center), seedDemoData(otherNode.prisma, center)]);
    expect(results.map((r) => r.created).sort()).toEqual([false, true]);
    expect(await test.db.prisma.venue.count()).toBe(12);
    expect(await test.db.prisma.venueStaff.count()).toBe(12);
    expect(await seedDemoData(test.db.prisma, center)).toEqual({ created: false, venues: 12 });
  });
});
