import { randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient } from '../storage/prisma-types';
import type { PresenceRecord } from './presence-store';

/** The durable record ignores heartbeats; its expiry is the seed's 24 h bound on a stay. */
export const DURABLE_EXPIRY_MS = 24 * 3_600_000;

/**
 * Rows per statement: 10 parameters a row stays far below PostgreSQL's 65,535 bind parameters, and a
 * flush bigger than this (a closing-time rush on one node) is the only one that takes two statements.
 */
export const ROWS_PER_STATEMENT = 2_000;

/** PostgreSQL's clock turned into the UTC wall time Prisma keeps in `timestamp(3)` columns, whatever the session's TimeZone. */
const NOW_UTC = Prisma.sql`(now() AT TIME ZONE 'UTC')`;
const utc = (ms: number) => Prisma.sql`(to_timestamp(${ms}::float8 / 1000) AT TIME ZONE 'UTC')`;

function rowValues(userId: string, p: PresenceRecord): Prisma.Sql {
  return Prisma.sql`(${randomUUID()}::text, ${userId}::text, ${p.venueId}::text, ${p.wantsToBuy}::boolean, ${p.wantsToReceive}::boolean,
    ${p.visible}::boolean, ${p.lat}::float8, ${p.lng}::float8, ${utc(p.checkedInAt + DURABLE_EXPIRY_MS)}, ${utc(p.lastSeenAt)})`;
}

const COLUMNS = Prisma.sql`id, "userId", "venueId", "wantsToBuy", "wantsToReceive", visible, latitude, longitude, "expiresAt", "lastSeenAt"`;

const UPDATE_ALL = Prisma.sql`ON CONFLICT ("userId") DO UPDATE SET "venueId" = EXCLUDED."venueId", "wantsToBuy" = EXCLUDED."wantsToBuy",
      "wantsToReceive" = EXCLUDED."wantsToReceive", visible = EXCLUDED.visible, latitude = EXCLUDED.latitude,
      longitude = EXCLUDED.longitude, "expiresAt" = EXCLUDED."expiresAt", "lastSeenAt" = EXCLUDED."lastSeenAt", "updatedAt" = EXCLUDED."updatedAt"`;

/**
 * One statement for a whole batch: the users who left are deleted and everyone else's row is inserted or
 * updated, so a flush of 300 changes is one round trip, not 300. A row whose user or venue was deleted
 * meanwhile (an account deleted mid-stay) is skipped, not allowed to fail the batch on its foreign key.
 */
export function journalStatement(
  upserts: [string, PresenceRecord][],
  deletes: string[],
  onConflict: 'update' | 'keep' = 'update',
): Prisma.Sql | null {
  if (upserts.length === 0 && deletes.length === 0) return null;
  const gone = deletes.length > 0 ? Prisma.sql`DELETE FROM presences WHERE "userId" IN (${Prisma.join(deletes)})` : null;
  if (upserts.length === 0) return gone;
  const insert = Prisma.sql`INSERT INTO presences (${COLUMNS}, "updatedAt")
    SELECT r.*, ${NOW_UTC} FROM (VALUES ${Prisma.join(upserts.map(([u, p]) => rowValues(u, p)))}) AS r(${COLUMNS})
    WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = r."userId") AND EXISTS (SELECT 1 FROM venues v WHERE v.id = r."venueId")
    ${onConflict === 'keep' ? Prisma.sql`ON CONFLICT ("userId") DO NOTHING` : UPDATE_ALL}`;
  // Both halves see one snapshot and touch disjoint users, so one statement is safe.
  return gone ? Prisma.sql`WITH gone AS (${gone}) ${insert}` : insert;
}

/** A durable row as the rebuild compares it; `stamp` is its `updatedAt`, the rebuild's optimistic-concurrency token. */
export interface JournalRow {
  userId: string;
  venueId: string;
  wantsToBuy: boolean;
  wantsToReceive: boolean;
  visible: boolean;
  stamp: string;
}

export async function readJournalRows(prisma: PrismaClient): Promise<JournalRow[]> {
  return prisma.$queryRaw<
    JournalRow[]
  >`SELECT "userId", "venueId", "wantsToBuy", "wantsToReceive", visible, "updatedAt"::text AS stamp FROM presences`;
}

/** Whether a durable row says what the stay says (position and heartbeat times are not compared: heartbeats never reach the journal). */
export function rowMatches(row: JournalRow, p: PresenceRecord): boolean {
  return (
    row.venueId === p.venueId && row.wantsToBuy === p.wantsToBuy && row.wantsToReceive === p.wantsToReceive && row.visible === p.visible
  );
}

/**
 * The rebuild's corrections, each guarded by the row's `updatedAt` as the rebuild read it: a row some
 * node's journal rewrote since then is newer than the rebuild's reading and is left alone.
 */
export async function applyCorrections(
  prisma: PrismaClient,
  fixes: { userId: string; row: JournalRow | undefined; stay: PresenceRecord | null }[],
): Promise<{ upserted: number; deleted: number }> {
  let upserted = 0;
  let deleted = 0;
  for (const f of fixes) {
    if (f.stay === null) {
      if (!f.row) continue;
      deleted += await prisma.$executeRaw`DELETE FROM presences WHERE "userId" = ${f.userId} AND "updatedAt"::text = ${f.row.stamp}`;
    } else if (!f.row) {
      // A row inserted meanwhile came from a newer change: keep it.
      upserted += await prisma.$executeRaw(journalStatement([[f.userId, f.stay]], [], 'keep')!);
    } else {
      const p = f.stay;
      upserted +=
        await prisma.$executeRaw`UPDATE presences SET "venueId" = ${p.venueId}, "wantsToBuy" = ${p.wantsToBuy}, "wantsToReceive" = ${p.wantsToReceive},
        visible = ${p.visible}, latitude = ${p.lat}::float8, longitude = ${p.lng}::float8, "expiresAt" = ${utc(p.checkedInAt + DURABLE_EXPIRY_MS)},
        "lastSeenAt" = ${utc(p.lastSeenAt)}, "updatedAt" = ${NOW_UTC} WHERE "userId" = ${f.userId} AND "updatedAt"::text = ${f.row.stamp}`;
    }
  }
  return { upserted, deleted };
}
