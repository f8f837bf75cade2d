import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/test-server';

// Embedded mode has no Redis and no DynamoDB: codes, cache and limits live in memory, devices in PGlite.
let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ RATE_LIMIT_WRITES_PER_MINUTE: '2' }, { label: 'embedded_api', stores: 'embedded' });
}, 120_000);
afterAll(() => ts?.close());

describe('the REST API in embedded mode', () => {
  it('signs in with a one-time code held in memory', async () => {
    expect(ts.server.ctx.redis).toBeUndefined();
    const email = uniqueEmail('embedded');
    const req = await api(ts).post('/api/auth/code/request', { channel: 'email', destination: email });
    expect(req.status).toBe(202);
    const wrong = await api(ts).post('/api/auth/code/verify', {
      channel: 'email',
      destination: email,
      code: req.body.devCode === '000000' ? '111111' : '000000',
    });
    expect(wrong.status).toBe(401);
    const ok = await api(ts).post('/api/auth/code/verify', { channel: 'email', destination: email, code: req.body.devCode });
    expect(ok.status).toBe(200);
    expect((await api(ts).post('/api/auth/code/request', { channel: 'email', destination: email })).status).toBe(429);
  });

  it('serves nearby demo venues twice (memory cache) with live counts', async () => {
    const q = `/api/venues?lat=${ts.config.CITY_CENTER_LAT}&lng=${ts.config.CITY_CENTER_LNG}&radius=3km`;
    const a = await api(ts).get(q);
    expect(a.status).toBe(200);
    expect(a.body.venues.length).toBeGreaterThan(0);
    const user = await signIn(ts, uniqueEmail('here'));
    const v = a.body.venues[0];
    await ts.server.ctx.presence.checkIn({
      userId: user.user.id,
      venueId: v.id,
      lat: v.latitude,
      lng: v.longitude,
      now: ts.server.ctx.now(),
    });
    const b = await api(ts).get(q);
    expect(b.body.venues.map((x: { id: string }) => x.id)).toEqual(a.body.venues.map((x: { id: string }) => x.id));
    expect(b.body.venues[0].liveCount).toBe(1);
  });

  it('keeps devices in PostgreSQL only and rate-limits writes in memory', async () => {
    const me = await signIn(ts, uniqueEmail('dev'));
    expect((await api(ts, me.accessToken).post('/api/devices', { token: 'a'.repeat(64), platform: 'IOS' })).status).toBe(200);
    expect(await ts.server.services.push.send(me.user.id, { title: 't', body: 'b' })).toEqual({ devices: 1 });
    expect((await api(ts, me.accessToken).post('/api/devices', { token: 'b'.repeat(64), platform: 'IOS' })).status).toBe(200);
    const third = await api(ts, me.accessToken).post('/api/devices', { token: 'c'.repeat(64), platform: 'IOS' });
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBeTruthy();
  });
});
