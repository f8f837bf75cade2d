import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent, type VenueCount } from '../../protocol/events';
import { startCluster, type Cluster } from '../helpers/cluster';
import { collect, emitOk, nextEvent, waitUntil } from '../helpers/socket';
import type { TestClient } from '../helpers/test-server';

let cluster: Cluster;
let venues: { id: string; latitude: number; longitude: number }[];

async function makeUsers(n: number, prefix: string) {
  const out: { id: string; token: string }[] = [];
  for (let i = 0; i < n; i++) {
    const u = await cluster.db.prisma.user.create({
      data: { displayName: `${prefix}-${i}`, email: `${prefix}-${i}-${Date.now()}@test.treatme.dev` },
    });
    out.push({ id: u.id, token: cluster.tokens.sign(u.id) });
  }
  return out;
}

beforeAll(async () => {
  cluster = await startCluster(3, {
    DYNAMODB_COUNTER_SHARDS: '16',
    PRESENCE_TIMEOUT_SECONDS: '40',
    PRESENCE_LEASE_EXTRA_SECONDS: '5',
    PRESENCE_LEASE_REFRESH_SECONDS: '30',
    SWEEP_INTERVAL_MS: '300',
    COUNT_COALESCE_MS: '100',
    PRESENCE_GRACE_SECONDS: '60',
  });
  venues = await cluster.db.prisma.venue.findMany({ orderBy: { slug: 'asc' } });
}, 120_000);
afterAll(async () => cluster?.close(), 60_000);

describe('three server processes behind one Redis and one DynamoDB', () => {
  it('a check-in on node A reaches a map viewer on node C', async () => {
    const [a, , c] = cluster.nodes;
    const venue = venues[0]!;
    const viewer = await cluster.connect(c!);
    await emitOk(viewer, ClientEvent.MapWatch, {
      bbox: [venue.longitude - 0.05, venue.latitude - 0.05, venue.longitude + 0.05, venue.latitude + 0.05],
    });
    const [user] = await makeUsers(1, 'crossnode');
    const phone = await cluster.connect(a!, user!.token);
    const seen = nextEvent(viewer, 'venue:count', (m) => m.venueId === venue.id && m.count === 1, 3_000);
    await emitOk(phone, ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude });
    await seen;
  });

  it('300 concurrent check-ins into one venue over three nodes count exactly 300; a SIGKILLed node’s users count until they expire', async () => {
    const venue = venues[1]!;
    const users = await makeUsers(300, 'crowd');
    const viewers = await Promise.all(cluster.nodes.map((n) => cluster.connect(n)));
    const seen = viewers.map((v) => collect(v, 'venue:count'));
    for (const v of viewers) await emitOk(v, ClientEvent.VenueWatch, { venueIds: [venue.id] });
    const phones: { socket: TestClient; node: number }[] = [];
    for (let i = 0; i < users.length; i++) {
      const node = i % 3;
      phones.push({ socket: await cluster.connect(cluster.nodes[node]!, users[i]!.token), node });
    }
    // Every phone heartbeats, as the app does; node B's phones stop when B dies.
    const beat = setInterval(() => {
      for (const p of phones) if (p.socket.connected) p.socket.emit(ClientEvent.Heartbeat, {}, () => undefined);
    }, 5_000);
    try {
      await Promise.all(
        phones.map(({ socket }) =>
          emitOk(socket, ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude }, 120_000),
        ),
      );

      const last = (i: number): VenueCount | undefined =>
        seen[i]!.reduce<VenueCount | undefined>((m, c) => (c.venueId === venue.id && (!m || c.version > m.version) ? c : m), undefined);
      expect((await cluster.store.getCounts([venue.id])).get(venue.id)!.count).toBe(300);
      await waitUntil(() => [0, 1, 2].every((i) => last(i)?.count === 300), 10_000);
      // Coalescing: each viewer saw far fewer messages than the 300 changes.
      for (const s of seen) expect(s.length).toBeLessThan(100);

      const b = cluster.nodes[1]!;
      b.proc.kill('SIGKILL');
      await b.exited;
      // Straight after the kill its 100 users are still counted: their presences have not expired.
      await new Promise((r) => setTimeout(r, 1_000));
      expect(last(0)?.count).toBe(300);
      // Once their leases run out (45 s after their last renewal at most), the sweepers on A and C end each exactly once.
      await waitUntil(() => last(0)?.count === 200 && last(2)?.count === 200, 90_000, 200).catch(async (err: unknown) => {
        const stored = (await cluster.store.getCounts([venue.id])).get(venue.id);
        const logs = cluster.nodes[0]!.output.join('')
          .split('\n')
          .filter((l) => /"level":(40|50)/.test(l))
          .slice(-5)
          .join('\n');
        throw new Error(`viewers saw ${last(0)?.count} / ${last(2)?.count}, store says ${stored?.count}: ${String(err)}\n${logs}`);
      });
      await new Promise((r) => setTimeout(r, 2_000));
      expect(last(0)?.count).toBe(200);
      expect(last(2)?.count).toBe(200);
      expect((await cluster.store.getCounts([venue.id])).get(venue.id)!.count).toBe(200);
    } finally {
      clearInterval(beat);
    }
  }, 300_000);
});
