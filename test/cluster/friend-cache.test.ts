import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import { api } from '../helpers/auth';
import { startCluster, type Cluster, type ClusterNode } from '../helpers/cluster';
import { emitOk, waitUntil } from '../helpers/socket';

/**
 * The friend cache across two server processes: node B answers venue lists from its cached friend
 * list (kept 10 minutes here, so only an invalidation can make it change in time), and friendship and
 * block changes made through node A must reach it at once.
 */
let cluster: Cluster;
let venue: { id: string; latitude: number; longitude: number };

beforeAll(async () => {
  cluster = await startCluster(2, { FRIENDS_CACHE_SECONDS: '600', COUNT_COALESCE_MS: '50' }, 'friend-cache');
  venue = (await cluster.db.prisma.venue.findFirstOrThrow({ orderBy: { slug: 'asc' } }))!;
}, 120_000);
afterAll(async () => cluster?.close(), 60_000);

async function user(name: string) {
  const u = await cluster.db.prisma.user.create({
    data: { displayName: name, email: `${name}-${Date.now()}-${Math.random()}@test.treatme.dev` },
  });
  return { id: u.id, token: cluster.tokens.sign(u.id) };
}

async function friendsShownOn(node: ClusterNode, token: string): Promise<string[]> {
  const res = await api(node, token).get(`/api/venues/${venue.id}`);
  expect(res.status).toBe(200);
  return (res.body.venue.friendsPresent as { displayName: string }[]).map((f) => f.displayName);
}

async function eventually(node: ClusterNode, token: string, expected: string[]): Promise<void> {
  let last: string[] = [];
  await waitUntil(
    async () => {
      last = await friendsShownOn(node, token);
      return JSON.stringify(last) === JSON.stringify(expected);
    },
    2_000,
    50,
  ).catch(() => {
    throw new Error(`node ${node.id} still shows ${JSON.stringify(last)}, expected ${JSON.stringify(expected)}`);
  });
}

describe('the per-node friend cache, two server processes', () => {
  it('forgets a friendship ended, made, and a block, on the other node within moments', async () => {
    const [a, b] = cluster.nodes as [ClusterNode, ClusterNode];
    const me = await user('Mia');
    const pal = await user('Pal');
    // Pal is out, checked in on node A's socket.
    const phone = await cluster.connect(a, pal.token);
    await emitOk(phone, ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude });

    // Befriend through node A's API; node B has nothing cached yet.
    expect((await api(a, me.token).post('/api/friends/requests', { userId: pal.id })).status).toBeLessThan(300);
    expect((await api(a, pal.token).post(`/api/friends/requests/${me.id}/accept`)).status).toBeLessThan(300);
    await eventually(b, me.token, ['Pal']);
    // Cached now on node B (and on A): the same answer again.
    expect(await friendsShownOn(b, me.token)).toEqual(['Pal']);
    expect(await friendsShownOn(a, me.token)).toEqual(['Pal']);

    // Unfriend on node A: node B's cache (600 s) must drop it, for both sides.
    expect((await api(a, pal.token).delete(`/api/friends/${me.id}`)).status).toBeLessThan(300);
    await eventually(b, me.token, []);

    // Friends again, through node B this time, then a block made on node A.
    expect((await api(b, pal.token).post('/api/friends/requests', { userId: me.id })).status).toBeLessThan(300);
    expect((await api(b, me.token).post(`/api/friends/requests/${pal.id}/accept`)).status).toBeLessThan(300);
    await eventually(a, me.token, ['Pal']);
    await eventually(b, me.token, ['Pal']);
    expect((await api(a, pal.token).post('/api/blocks', { userId: me.id })).status).toBe(204);
    await eventually(b, me.token, []);
    await eventually(a, me.token, []);

    // Unblocking does not bring the friendship back (the block deleted it): nothing to show on either node.
    expect((await api(a, pal.token).delete(`/api/blocks/${me.id}`)).status).toBe(204);
    expect(await friendsShownOn(b, me.token)).toEqual([]);
    phone.disconnect();
  });

  it('shows a friend moving between venues and leaving, through the other node, from the presence streams', async () => {
    const [a, b] = cluster.nodes as [ClusterNode, ClusterNode];
    const venues = await cluster.db.prisma.venue.findMany({ orderBy: { slug: 'asc' }, take: 3 });
    const me = await user('Max');
    const pal = await user('Ola');
    await cluster.db.prisma.friendship.create({
      data: { requesterId: me.id, addresseeId: pal.id, status: 'ACCEPTED', acceptedAt: new Date() },
    });
    const phone = await cluster.connect(a, pal.token);
    const where = async (node: ClusterNode) => {
      const res = await api(node, me.token).get(`/api/venues?lat=${venues[1]!.latitude}&lng=${venues[1]!.longitude}&radius=20km&limit=100`);
      return (res.body.venues as { id: string; friendsPresent: unknown[] }[]).filter((v) => v.friendsPresent.length > 0).map((v) => v.id);
    };
    for (const v of [venues[1]!, venues[2]!]) {
      await emitOk(phone, ClientEvent.CheckIn, { venueId: v.id, lat: v.latitude, lng: v.longitude });
      await waitUntil(async () => JSON.stringify(await where(b)) === JSON.stringify([v.id]), 3_000, 50);
    }
    await emitOk(phone, ClientEvent.Leave, {});
    await waitUntil(async () => (await where(b)).length === 0, 3_000, 50);
    phone.disconnect();
  });
});
