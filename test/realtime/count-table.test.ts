import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent, type VenueCount } from '../../protocol/events';
import { api } from '../helpers/auth';
import { emitOk, waitUntil } from '../helpers/socket';
import { startTestServer, type TestClient, type TestServer } from '../helpers/test-server';
import { createUsers, demoVenues } from '../helpers/users';

/**
 * REST counts come from the node's count table. These tests write to the presence store directly (no
 * broadcast: a lost message) or through sockets (the stream), and watch what REST and a socket viewer
 * on the same node see.
 */
const RESYNC_MS = 1_000;
let ts: TestServer;
let venues: Awaited<ReturnType<typeof demoVenues>>;

beforeAll(async () => {
  ts = await startTestServer({ COUNT_RESYNC_INTERVAL_MS: String(RESYNC_MS), COUNT_COALESCE_MS: '50' }, { label: 'count-table' });
  venues = await demoVenues(ts.server.ctx);
}, 60_000);
afterAll(() => ts?.close());

async function storeReads(): Promise<number> {
  const metric = await ts.server.ctx.metrics.registry.getSingleMetric('treatme_venue_answer_store_reads_total')!.get();
  return metric.values.find((v) => v.labels.kind === 'count')?.value ?? 0;
}

async function restCount(venueId: string): Promise<{ liveCount: number; countVersion: number }> {
  const res = await api(ts).get(`/api/venues/${venueId}`);
  expect(res.status).toBe(200);
  return res.body.venue;
}

/** The last count a viewer was sent for each venue, from snapshots and live messages alike. */
function lastSeen(socket: TestClient): Map<string, VenueCount> {
  const seen = new Map<string, VenueCount>();
  const keep = (c: VenueCount) => {
    if ((seen.get(c.venueId)?.version ?? -1) < c.version) seen.set(c.venueId, c);
  };
  socket.on('venue:count', keep);
  socket.on('venue:snapshot', (s) => s.counts.forEach(keep));
  return seen;
}

describe('the per-node count table behind REST counts', () => {
  it('reads a venue first seen by REST from the store, then from memory once the resync has it; a lost change is repaired within one resync', async () => {
    const venue = venues[0]!;
    const [u1, u2] = await createUsers(ts.server.ctx, 2, 'table');
    const store = ts.server.ctx.presence;
    await store.checkIn({ userId: u1!.id, venueId: venue.id, lat: venue.latitude, lng: venue.longitude, now: ts.server.ctx.now() });

    // Never heard of on this node: the store answers, and only for this venue.
    const before = await storeReads();
    expect((await restCount(venue.id)).liveCount).toBe(1);
    expect(await storeReads()).toBe(before + 1);

    // The next resync covers the venue REST asked about; from then on REST reads no store.
    await waitUntil(
      async () => {
        const r0 = await storeReads();
        await restCount(venue.id);
        return (await storeReads()) === r0;
      },
      3 * RESYNC_MS,
      100,
    );
    const settled = await storeReads();

    // A change whose broadcast is lost (written straight to the store): a viewer and REST both catch up
    // at the next resync, REST without a store read of its own.
    const viewer = await ts.connect();
    const seen = lastSeen(viewer);
    await emitOk(viewer, ClientEvent.VenueWatch, { venueIds: [venue.id] });
    const wroteAt = Date.now();
    await store.checkIn({ userId: u2!.id, venueId: venue.id, lat: venue.latitude, lng: venue.longitude, now: ts.server.ctx.now() });
    await waitUntil(async () => (await restCount(venue.id)).liveCount === 2, 3 * RESYNC_MS, 50);
    const repairedAfter = Date.now() - wroteAt;
    expect(repairedAfter).toBeLessThan(RESYNC_MS + 500);
    await waitUntil(() => seen.get(venue.id)?.count === 2, RESYNC_MS);
    expect(await storeReads()).toBe(settled);
    viewer.disconnect();
  });

  it('never answers REST with a count older than the one a socket viewer on the node was sent, through a check-in storm', async () => {
    const [hot, other] = [venues[1]!, venues[2]!];
    const viewer = await ts.connect();
    const seen = lastSeen(viewer);
    await emitOk(viewer, ClientEvent.VenueWatch, { venueIds: [hot.id, other.id] });
    const users = await createUsers(ts.server.ctx, 10, 'storm');
    const phones = await Promise.all(users.map((u) => ts.connect(u.token)));
    // The first REST read of a venue goes to the store (see above); the storm is about the ones after.
    await restCount(hot.id);

    let storming = true;
    let checkIns = 0;
    let received = 0;
    viewer.on('venue:count', (c) => c.venueId === hot.id && received++);
    const storm = Promise.all(
      phones.map(async (phone, i) => {
        let n = i;
        while (storming) {
          const v = n++ % 2 === 0 ? hot : other;
          await emitOk(phone, ClientEvent.CheckIn, { venueId: v.id, lat: v.latitude, lng: v.longitude });
          checkIns++;
          // Under the per-socket event limit (20/s): a refused event would end the storm early.
          await new Promise((r) => setTimeout(r, 100));
        }
      }),
    );
    let compared = 0;
    let slowest = 0;
    const until = Date.now() + 4_000;
    while (Date.now() < until) {
      const sent = seen.get(hot.id)?.version ?? 0;
      const t0 = Date.now();
      const rest = await restCount(hot.id);
      slowest = Math.max(slowest, Date.now() - t0);
      expect(rest.countVersion).toBeGreaterThanOrEqual(sent);
      compared++;
    }
    storming = false;
    await storm;
    expect(compared, `slowest REST answer ${slowest} ms`).toBeGreaterThan(5);
    expect(checkIns).toBeGreaterThan(10);
    expect(received).toBeGreaterThan(2);

    // Quiet again: REST, the viewer and the store agree exactly.
    const truth = (await ts.server.ctx.presence.getCounts([hot.id])).get(hot.id)!;
    await waitUntil(() => seen.get(hot.id)?.version === truth.version, 2_000);
    expect(await restCount(hot.id)).toMatchObject({ liveCount: truth.count, countVersion: truth.version });
    expect(seen.get(hot.id)!.count).toBe(truth.count);
    for (const p of phones) p.disconnect();
    viewer.disconnect();
  });
});
