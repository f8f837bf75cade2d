import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import { startCluster, type Cluster, type ClusterNode } from '../helpers/cluster';
import { emitOk, waitUntil } from '../helpers/socket';
import type { TestClient } from '../helpers/test-server';

let cluster: Cluster;
let venues: { id: string; latitude: number; longitude: number }[];
let users: { id: string; token: string }[];

const NODE_ENV = {
  PRESENCE_JOURNAL_FLUSH_MS: '1000',
  PRESENCE_JOURNAL_REBUILD_INTERVAL_MS: '0',
  // The churn sends far more than a phone's 20 events/s: a rate-limited phone would stop churning.
  SOCKET_EVENTS_PER_SECOND: '10000',
  SOCKET_EVENTS_BURST: '10000',
};

beforeAll(async () => {
  cluster = await startCluster(1, NODE_ENV, 'rebuild');
  venues = await cluster.db.prisma.venue.findMany({ orderBy: { slug: 'asc' }, select: { id: true, latitude: true, longitude: true } });
  await cluster.db.prisma.user.createMany({
    data: Array.from({ length: 40 }, (_, i) => ({ displayName: `r${i}`, email: `r${i}-${Date.now()}@test.treatme.dev` })),
  });
  users = (await cluster.db.prisma.user.findMany({ where: { displayName: { startsWith: 'r' } }, select: { id: true } })).map((u) => ({
    id: u.id,
    token: cluster.tokens.sign(u.id),
  }));
}, 120_000);
afterAll(async () => cluster?.close(), 60_000);

/** Users whose PostgreSQL row says something else than their stay in DynamoDB (no row for no stay agrees). */
async function disagreements(): Promise<string[]> {
  const rows = new Map((await cluster.db.prisma.presence.findMany()).map((r) => [r.userId, r]));
  const out: string[] = [];
  for (const { id } of users) {
    const stay = await cluster.store.get(id, Date.now());
    const row = rows.get(id);
    const same = stay
      ? row !== undefined &&
        row.venueId === stay.venueId &&
        row.wantsToBuy === stay.wantsToBuy &&
        row.wantsToReceive === stay.wantsToReceive &&
        row.visible === stay.visible
      : row === undefined;
    if (!same) out.push(id);
  }
  return out;
}

/**
 * Phones moving from venue to venue (each move to a venue they were not at, so a lost journal row always
 * shows), flag changes and leaves, until `stop`; the node is SIGKILLed in the middle of it.
 */
async function churnThenKill(node: ClusterNode): Promise<void> {
  const phones: TestClient[] = await Promise.all(users.map((u) => cluster.connect(node, u.token)));
  const at: number[] = phones.map(() => -1);
  let stop = false;
  const runs = phones.map(async (phone, i) => {
    for (let step = 0; !stop; step++) {
      const venue = (i + step) % venues.length;
      const v = venues[venue]!;
      try {
        if (step % 7 === 6) {
          await emitOk(phone, ClientEvent.Leave, {});
          at[i] = -1;
        } else if (step % 5 === 4) {
          await emitOk(phone, ClientEvent.PresenceUpdate, { wantsToBuy: step % 2 === 0 });
        } else {
          await emitOk(phone, ClientEvent.CheckIn, { venueId: v.id, lat: v.latitude, lng: v.longitude });
          at[i] = venue;
        }
      } catch {
        return; // this phone is done (its node is gone)
      }
      await new Promise((r) => setTimeout(r, 5 + (i % 7)));
    }
  });
  // Long enough for several flushes to land.
  await new Promise((r) => setTimeout(r, 2_500 + Math.random() * 1_000));
  stop = true;
  await Promise.all(runs);
  // Then one acknowledged move per phone and the kill at once: the store has them, and the journal's
  // flush window (1 s) cannot have written them all, wherever in the window this round fell.
  await Promise.all(
    phones.map((phone, i) => {
      const v = venues[(at[i]! + 1) % venues.length]!;
      return emitOk(phone, ClientEvent.CheckIn, { venueId: v.id, lat: v.latitude, lng: v.longitude });
    }),
  );
  node.proc.kill('SIGKILL');
  await node.exited;
  for (const p of phones) p.disconnect();
}

describe('the presence journal after a SIGKILL', () => {
  it('a killed node leaves PostgreSQL behind the store; `npm run presence:rebuild-journal` makes them agree', async () => {
    // A row the store never had (a delete lost in an earlier crash) must go too.
    const ghost = users[0]!.id;
    await churnThenKill(cluster.nodes[0]!);
    await cluster.db.prisma.presence.deleteMany({ where: { userId: ghost } });
    await cluster.db.prisma.presence.create({
      data: { userId: ghost, venueId: venues[3]!.id, latitude: 0, longitude: 0, expiresAt: new Date(Date.now() + 3_600_000) },
    });
    await cluster.store.leave(ghost, Date.now());
    const before = await disagreements();
    expect(before.length).toBeGreaterThan(0);
    expect(before).toContain(ghost);

    const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/presence-rebuild-journal.ts'], {
      env: { ...process.env, ...cluster.env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/rows written or corrected/);
    expect(await disagreements()).toEqual([]);
  }, 120_000);

  it('a node started after the kill rebuilds the journal by itself', async () => {
    const node = await cluster.startNode('nodeB');
    await churnThenKill(node);
    expect((await disagreements()).length).toBeGreaterThan(0);
    const next = await cluster.startNode('nodeC');
    await waitUntil(async () => (await disagreements()).length === 0, 30_000, 250);
    // And it keeps the journal itself from then on: one more change lands within a flush window.
    const phone = await cluster.connect(next, users[1]!.token);
    const v = venues[venues.length - 1]!;
    await emitOk(phone, ClientEvent.CheckIn, { venueId: v.id, lat: v.latitude, lng: v.longitude });
    await waitUntil(
      async () => (await cluster.db.prisma.presence.findUnique({ where: { userId: users[1]!.id } }))?.venueId === v.id,
      5_000,
      100,
    );
    expect(await disagreements()).toEqual([]);
    phone.disconnect();
  }, 120_000);
});
