import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countPgQueries } from '../../bench/lib/pg-query-counter';
import { DURABLE_EXPIRY_MS } from '../../server/presence/journal-sql';
import { MemoryPresenceStore } from '../../server/presence/memory-presence-store';
import { PresenceJournal } from '../../server/presence/presence-journal';
import type { PresenceRecord } from '../../server/presence/presence-store';
import { openDatabase, type Database } from '../../server/storage/database';
import { seedDemoData } from '../../server/storage/demo-seed';
import { createTestDatabase, type TestDatabase } from '../helpers/test-database';

const queries = countPgQueries({ keepTexts: true });
const logger = pino({ level: 'silent' });
const HOUR = 3_600_000;

function stay(userId: string, venueId: string, at: number, flags: Partial<PresenceRecord> = {}): PresenceRecord {
  return {
    userId,
    venueId,
    lat: 40.7,
    lng: -74,
    wantsToBuy: false,
    wantsToReceive: false,
    visible: true,
    checkedInAt: at,
    lastSeenAt: at,
    expiresAt: at + HOUR,
    ...flags,
  };
}

/** The statements since the last reset that touched the journal's table. */
const journalStatements = () => queries.texts.filter((t) => /\bpresences\b/.test(t));

async function rowsOf(db: Database) {
  const rows = await db.prisma.presence.findMany({ orderBy: { userId: 'asc' } });
  return new Map(rows.map((r) => [r.userId, r]));
}

// The same journal in both deployments: real PostgreSQL (cluster) and PGlite (embedded).
describe.each(['postgres', 'pglite'] as const)('presence journal on %s', (kind) => {
  let tdb: TestDatabase | undefined;
  let db: Database;
  let users: string[];
  let venues: string[];

  beforeAll(async () => {
    if (kind === 'postgres') {
      tdb = await createTestDatabase('journal');
      db = tdb.db;
    } else {
      db = await openDatabase({ DATABASE_URL: undefined, DATABASE_SCHEMA: 'public', PGLITE_DATA_DIR: '', PGLITE_IN_MEMORY: true });
    }
    await seedDemoData(db.prisma, { centerLat: 40.7128, centerLng: -74.006 });
    venues = (await db.prisma.venue.findMany({ select: { id: true }, orderBy: { slug: 'asc' } })).map((v) => v.id);
    await db.prisma.user.createMany({
      data: Array.from({ length: 60 }, (_, i) => ({ email: `j${i}.${kind}@test.treatme.dev`, displayName: `j${i}` })),
    });
    users = (await db.prisma.user.findMany({ where: { email: { endsWith: `.${kind}@test.treatme.dev` } }, orderBy: { email: 'asc' } })).map(
      (u) => u.id,
    );
  }, 60_000);
  afterAll(async () => {
    if (tdb) await tdb.drop();
    else await db.close();
  });

  it('writes a whole flush (check-ins, moves, flag changes, leaves) in one statement', async () => {
    const journal = new PresenceJournal(db.prisma, logger, { flushMs: 60_000 });
    const t0 = Date.UTC(2026, 11, 4, 22, 0, 0, 123);
    for (let i = 0; i < 50; i++) journal.record(users[i]!, stay(users[i]!, venues[i % 3]!, t0));
    await journal.flush();
    expect((await rowsOf(db)).size).toBe(50);

    queries.reset();
    const seen: number[] = [];
    journal.onFlush(async (events) => void seen.push(events.length));
    for (let i = 0; i < 10; i++) journal.record(users[i]!, null, venues[i % 3]!); // leaves
    for (let i = 10; i < 20; i++) journal.record(users[i]!, stay(users[i]!, venues[4]!, t0 + 1000), venues[i % 3]!); // moves
    for (let i = 20; i < 30; i++) journal.record(users[i]!, stay(users[i]!, venues[i % 3]!, t0, { wantsToBuy: true, visible: false })); // flags
    for (let i = 50; i < 60; i++) journal.record(users[i]!, stay(users[i]!, venues[5]!, t0 + 2000)); // arrivals
    // A user deleted mid-stay has no row to keep: it must not fail everyone else's.
    journal.record('no-such-user', stay('no-such-user', venues[0]!, t0));
    await journal.flush();
    expect(journalStatements()).toHaveLength(1);
    expect(queries.count).toBe(1);
    expect(seen).toEqual([41]);

    const rows = await rowsOf(db);
    expect(rows.size).toBe(50);
    for (let i = 0; i < 10; i++) expect(rows.has(users[i]!)).toBe(false);
    for (let i = 10; i < 20; i++)
      expect(rows.get(users[i]!)).toMatchObject({
        venueId: venues[4],
        lastSeenAt: new Date(t0 + 1000),
        expiresAt: new Date(t0 + 1000 + DURABLE_EXPIRY_MS),
      });
    for (let i = 20; i < 30; i++)
      expect(rows.get(users[i]!)).toMatchObject({ venueId: venues[i % 3], wantsToBuy: true, visible: false, wantsToReceive: false });
    for (let i = 50; i < 60; i++)
      expect(rows.get(users[i]!)).toMatchObject({
        venueId: venues[5],
        latitude: 40.7,
        longitude: -74,
        expiresAt: new Date(t0 + 2000 + DURABLE_EXPIRY_MS),
      });
    await journal.close();
  });

  it('keeps one flush in flight: changes made meanwhile gather into the next statement, newest per user', async () => {
    const journal = new PresenceJournal(db.prisma, logger, { flushMs: 20 });
    const t0 = Date.now();
    queries.reset();
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 40; i++) journal.record(users[i]!, stay(users[i]!, venues[round % 4]!, t0 + round));
      await new Promise((r) => setTimeout(r, 7));
    }
    await journal.flush();
    // 5 rounds over ~35 ms with a 20 ms window: a handful of statements, never one per change (200).
    const n = journalStatements().length;
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(4);
    const rows = await rowsOf(db);
    for (let i = 0; i < 40; i++) expect(rows.get(users[i]!)?.venueId).toBe(venues[0]); // round 4's
    await journal.close();
  });

  it('bounds its queue: past the limit changes are dropped and counted, and the rebuild repairs their rows', async () => {
    const registry = new Registry();
    const journal = new PresenceJournal(db.prisma, logger, { flushMs: 60_000, maxPending: 30, registry });
    const store = new MemoryPresenceStore({ timeoutMs: HOUR, ttlMs: 4 * HOUR, refreshBelowMs: 60_000 });
    const now = Date.now();
    await db.prisma.presence.deleteMany({});
    for (let i = 0; i < 60; i++) {
      const r = await store.checkIn({ userId: users[i]!, venueId: venues[6]!, lat: 40.7, lng: -74, now });
      journal.record(users[i]!, r.presence);
    }
    expect(journal.depth()).toBe(30);
    expect(await registry.getSingleMetricAsString('treatme_presence_journal_rows_total')).toContain('outcome="dropped"} 30');
    expect(await registry.getSingleMetricAsString('treatme_presence_journal_depth')).toMatch(/ 30$/m);
    await journal.flush();
    expect((await rowsOf(db)).size).toBe(30);
    const r = await journal.rebuild(store, venues);
    expect(r).toMatchObject({ stays: 60, rows: 30, upserted: 30, deleted: 0 });
    const rows = await rowsOf(db);
    expect(rows.size).toBe(60);
    for (const u of users) expect(rows.get(u)?.venueId).toBe(venues[6]);
    await journal.close();
  });

  it('rebuilds the rows from the presence store: stale ones deleted, wrong ones corrected, missing ones written', async () => {
    const journal = new PresenceJournal(db.prisma, logger, { flushMs: 60_000 });
    const store = new MemoryPresenceStore({ timeoutMs: HOUR, ttlMs: 4 * HOUR, refreshBelowMs: 60_000 });
    const now = Date.now();
    await db.prisma.presence.deleteMany({});
    // Rows as a crash left them: 0..19 agree, 20..29 at the wrong venue, 30..39 left long ago.
    for (let i = 0; i < 40; i++) journal.record(users[i]!, stay(users[i]!, venues[i < 20 ? 1 : 2]!, now));
    await journal.flush();
    // The store's truth: 0..29 at venue 1 (20..29 flagged), 40..49 checked in but never journaled.
    for (let i = 0; i < 50; i++) {
      if (i >= 30 && i < 40) continue;
      await store.checkIn({ userId: users[i]!, venueId: venues[1]!, lat: 40.7, lng: -74, wantsToReceive: i >= 20 && i < 30, now });
    }
    const first = await journal.rebuild(store, venues);
    expect(first).toMatchObject({ stays: 40, rows: 40, upserted: 20, deleted: 10 });
    const rows = await rowsOf(db);
    expect([...rows.keys()].sort()).toEqual([...users.slice(0, 30), ...users.slice(40, 50)].sort());
    for (const [u, row] of rows) {
      const p = await store.get(u, now);
      expect(row).toMatchObject({ venueId: p!.venueId, wantsToReceive: p!.wantsToReceive, wantsToBuy: p!.wantsToBuy, visible: p!.visible });
    }
    // Agreeing already: nothing to do.
    expect(await journal.rebuild(store, venues)).toMatchObject({ upserted: 0, deleted: 0 });
  });
});
