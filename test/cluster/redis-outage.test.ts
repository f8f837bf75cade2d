import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import { freePort } from '../../scripts/lib/dynamo-local';
import { isolationIds } from '../helpers/isolation';
import { startRedis } from '../helpers/private-redis';
import { collect, emitOk, nextEvent, waitUntil } from '../helpers/socket';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { createUser, demoVenues } from '../helpers/users';

let port: number;
let redis: ChildProcess;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  port = await freePort();
  redis = await startRedis(port);
  const ids = isolationIds('redis-outage');
  // No periodic resync here: the test is about the catch-up when Redis returns.
  const env = { REDIS_URL: `redis://127.0.0.1:${port}`, COUNT_COALESCE_MS: '50', COUNT_RESYNC_INTERVAL_MS: '3600000' };
  a = await startTestServer(env, { ids });
  b = await startTestServer(env, { ids });
});
afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  redis?.kill('SIGKILL');
});

describe('Redis outage', () => {
  it('nodes keep serving their own sockets, count the outage, and catch up when Redis returns', async () => {
    const venue = (await demoVenues(a.server.ctx))[0]!;
    const viewerA = await a.connect();
    const viewerB = await b.connect();
    await emitOk(viewerA, ClientEvent.VenueWatch, { venueIds: [venue.id] });
    await emitOk(viewerB, ClientEvent.VenueWatch, { venueIds: [venue.id] });

    // Healthy: a check-in on A reaches a viewer on B.
    const u1 = await createUser(a.server.ctx, 'before');
    const p1 = await a.connect(u1.token);
    const seenB = nextEvent(viewerB, 'venue:count', (c) => c.venueId === venue.id && c.count === 1);
    await emitOk(p1, ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude });
    await seenB;

    redis.kill('SIGKILL');
    await waitUntil(async () => (await fetch(`${b.url}/ready`)).status === 503, 10_000, 100);

    // Down: A still serves its own viewer; B cannot hear about it.
    const bSaw = collect(viewerB, 'venue:count');
    const u2 = await createUser(a.server.ctx, 'during');
    const p2 = await a.connect(u2.token);
    const seenA = nextEvent(viewerA, 'venue:count', (c) => c.venueId === venue.id && c.count === 2);
    await emitOk(p2, ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude });
    await seenA;
    await new Promise((r) => setTimeout(r, 300));
    expect(bSaw.filter((c) => c.count === 2)).toEqual([]);
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toMatch(/treatme_redis_outages_total\{client="sub"\} [1-9]/);

    // Back: B resyncs what it missed without any new change.
    redis = await startRedis(port);
    await nextEvent(viewerB, 'venue:count', (c) => c.venueId === venue.id && c.count === 2, 15_000);
    await waitUntil(async () => (await fetch(`${b.url}/ready`)).status === 200, 10_000, 100);
  }, 60_000);
});
