import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import { startCluster, type Cluster } from '../helpers/cluster';
import { emitOk, waitUntil } from '../helpers/socket';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster(
    2,
    { PRESENCE_GRACE_SECONDS: '1', SWEEP_INTERVAL_MS: '200', PRESENCE_TIMEOUT_SECONDS: '30', COUNT_COALESCE_MS: '50' },
    'multidevice',
  );
}, 120_000);
afterAll(async () => cluster?.close(), 60_000);

const count = async (venueId: string) => (await cluster.store.getCounts([venueId])).get(venueId)!.count;

describe('one user, two devices on two nodes', () => {
  it('the newer device closing does not cut the stay the older one still holds on the other node', async () => {
    const venue = await cluster.db.prisma.venue.findFirstOrThrow({ orderBy: { slug: 'asc' } });
    const user = await cluster.db.prisma.user.create({ data: { displayName: 'Two phones', email: `two-${Date.now()}@test.treatme.dev` } });
    const token = cluster.tokens.sign(user.id);
    const [a, b] = cluster.nodes;

    const phone = await cluster.connect(a!, token);
    await emitOk(phone, ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude });
    // The tablet opens the app on node B: it takes the stay over (resume), as a reconnect would.
    const tablet = await cluster.connect(b!, token);
    await waitUntil(async () => (await cluster.store.get(user.id, Date.now()))?.nodeId?.startsWith('nodeB') === true, 5_000);
    tablet.disconnect();

    // Well past the 1 s grace: the phone on A still holds the stay, and A owns it now.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await count(venue.id)).toBe(1);
    const stay = await cluster.store.get(user.id, Date.now());
    expect(stay?.nodeId?.startsWith('nodeA')).toBe(true);
    expect(await emitOk(phone, ClientEvent.Heartbeat, {})).toMatchObject({ presence: { venueId: venue.id } });

    // The last device closing does end it after the grace.
    phone.disconnect();
    await waitUntil(async () => (await count(venue.id)) === 0, 6_000);
  }, 60_000);
});
