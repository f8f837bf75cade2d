import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import { startCluster, type Cluster } from '../helpers/cluster';
import { emitOk, waitUntil } from '../helpers/socket';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster(
    2,
    { PRESENCE_GRACE_SECONDS: '1', SWEEP_INTERVAL_MS: '200', PRESENCE_TIMEOUT_SECONDS: '30', COUNT_COALESCE_MS: '50' },
    'netswitch',
  );
}, 120_000);
afterAll(async () => cluster?.close(), 60_000);

const count = async (venueId: string) => (await cluster.store.getCounts([venueId])).get(venueId)!.count;

describe('a phone that changes networks', () => {
  it('keeps its stay when its old socket is noticed closed after the new one connected to another node', async () => {
    const venue = await cluster.db.prisma.venue.findFirstOrThrow({ orderBy: { slug: 'asc' } });
    const user = await cluster.db.prisma.user.create({ data: { displayName: 'Roamer', email: `roamer-${Date.now()}@test.treatme.dev` } });
    const token = cluster.tokens.sign(user.id);
    const [a, b] = cluster.nodes;

    const onWifi = await cluster.connect(a!, token);
    await emitOk(onWifi, ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude });
    const before = (await cluster.store.get(user.id, Date.now()))!.lastSeenAt;

    // On 4G the app reconnects to node B at once; node A only now learns the wifi socket is gone.
    const on4g = await cluster.connect(b!, token);
    await waitUntil(async () => ((await cluster.store.get(user.id, Date.now()))?.lastSeenAt ?? 0) > before);
    onWifi.disconnect();

    // Well past the 1 s grace the old socket's close would have started: still here, and B says so.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await count(venue.id)).toBe(1);
    expect(await emitOk(on4g, ClientEvent.Heartbeat, {})).toMatchObject({ presence: { venueId: venue.id } });

    // The connection that holds the stay now does end it when it closes.
    on4g.disconnect();
    await waitUntil(async () => (await count(venue.id)) === 0, 5_000);
  });
});
