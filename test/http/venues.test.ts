import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distanceMeters } from '../../server/geo/distance';
import { COMPRESS_FROM_BYTES } from '../../server/venues/json-answer';
import { nightWeekday } from '../../server/venues/tonight';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/test-server';

let ts: TestServer;
const center = { lat: 40.7128, lng: -74.006 };
beforeAll(async () => {
  ts = await startTestServer({}, { label: 'venues' });
});
afterAll(() => ts?.close());

const near = (lat: number, lng: number, extra = '') => `/api/venues?lat=${lat}&lng=${lng}${extra}`;

async function addVenue(lat: number, lng: number, name = `Pop-up ${randomUUID().slice(0, 6)}`) {
  return ts.server.ctx.db.prisma.venue.create({
    data: { slug: `${name.toLowerCase().replace(/\W+/g, '-')}-${randomUUID().slice(0, 6)}`, name, latitude: lat, longitude: lng },
  });
}

async function checkIn(userId: string, venue: { id: string; latitude: number; longitude: number }, visible = true) {
  await ts.server.ctx.presence.checkIn({
    userId,
    venueId: venue.id,
    lat: venue.latitude,
    lng: venue.longitude,
    visible,
    now: ts.server.ctx.now(),
  });
}

/** A GET with exactly these headers (fetch would add Accept-Encoding and inflate), body as sent. */
function rawGet(path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    const req = request(`${ts.url}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /api/venues', () => {
  it('lists the demo venues nearest first, each within the radius, with menu and tonight’s specials', async () => {
    const res = await api(ts).get(near(center.lat, center.lng, '&radius=5km'));
    expect(res.status).toBe(200);
    expect(res.body.radiusMeters).toBe(5000);
    const venues = res.body.venues as {
      latitude: number;
      longitude: number;
      distanceMeters: number;
      menu: unknown[];
      specialsTonight: { title: string }[];
      liveCount: number;
      friendsPresent: unknown[];
    }[];
    expect(venues.length).toBeGreaterThan(3);
    const distances = venues.map((v) => v.distanceMeters);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    for (const v of venues) {
      expect(v.distanceMeters).toBeLessThanOrEqual(5000);
      expect(Math.abs(distanceMeters(center.lat, center.lng, v.latitude, v.longitude) - v.distanceMeters)).toBeLessThan(0.1);
      expect(v.menu.length).toBeGreaterThan(0);
      expect(v.specialsTonight.map((s) => s.title)).toContain('Happy Hour');
      expect(v.friendsPresent).toEqual([]);
    }
  });

  it('accepts radius as 500, 500m, 1km or 1.5KM and refuses anything else with 400', async () => {
    for (const [radius, meters] of [
      ['500', 500],
      ['500m', 500],
      ['1km', 1000],
      ['1.5KM', 1500],
    ] as const) {
      const res = await api(ts).get(near(center.lat, center.lng, `&radius=${radius}`));
      expect(res.status, radius).toBe(200);
      expect(res.body.radiusMeters).toBe(meters);
    }
    for (const radius of ['abc', '0', '-5', '100km', '5%20miles', '1e3', '']) {
      const res = await api(ts).get(near(center.lat, center.lng, `&radius=${radius}`));
      expect(res.status, radius).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION');
      expect(res.body.error.issues[0].path).toEqual(['radius']);
    }
  });

  it('refuses missing or out-of-range positions and unknown parameters', async () => {
    for (const path of [
      '/api/venues',
      '/api/venues?lat=40',
      near(91, 0),
      near(0, 181),
      '/api/venues?lat=abc&lng=1',
      `${near(1, 1)}&limit=0`,
      `${near(1, 1)}&foo=1`,
    ]) {
      const res = await api(ts).get(path);
      expect(res.status, path).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION');
    }
  });

  it('caches the venue query for a rounded position but never the live count', async () => {
    const here = { lat: 10.1232, lng: 20.6542 };
    const first = await addVenue(here.lat + 0.001, here.lng);
    const a = await api(ts).get(near(here.lat, here.lng, '&radius=1km'));
    expect(a.body.venues.map((v: { id: string }) => v.id)).toEqual([first.id]);
    expect(a.body.venues[0].liveCount).toBe(0);

    const later = await addVenue(here.lat - 0.0005, here.lng);
    const user = await signIn(ts, uniqueEmail('counted'));
    await checkIn(user.user.id, first);
    // Same 0.001° cell: served from the cache, so the new venue is not there yet, but the count is live.
    const b = await api(ts).get(near(here.lat + 0.0001, here.lng - 0.0001, '&radius=1km'));
    expect(b.body.venues.map((v: { id: string }) => v.id)).toEqual([first.id]);
    expect(b.body.venues[0].liveCount).toBe(1);
    const keys = await ts.server.ctx.redis!.main.keys(`${ts.config.REDIS_KEY_PREFIX}qc:venues:near:*`);
    expect(keys.length).toBeGreaterThan(0);
    const ttl = await ts.server.ctx.redis!.main.ttl(keys[0]!.slice(ts.config.REDIS_KEY_PREFIX.length));
    expect(ttl).toBeGreaterThan(250);
    expect(ttl).toBeLessThanOrEqual(300);

    // Another cell is a fresh query.
    const c = await api(ts).get(near(here.lat + 0.01, here.lng, '&radius=2km'));
    expect(c.body.venues.map((v: { id: string }) => v.id)).toContain(later.id);
  });

  it('shows a signed-in caller the friends checked in at each venue, and no one else', async () => {
    const [me, friend, ghost, stranger, blocked] = await Promise.all(
      ['me', 'friend', 'ghost', 'stranger', 'blocked'].map((n) => signIn(ts, uniqueEmail(n), n)),
    );
    const prisma = ts.server.ctx.db.prisma;
    for (const f of [friend!, ghost!, blocked!]) {
      await prisma.friendship.create({
        data: { requesterId: me!.user.id, addresseeId: f.user.id, status: 'ACCEPTED', acceptedAt: new Date() },
      });
    }
    await prisma.block.create({ data: { blockerId: blocked!.user.id, blockedId: me!.user.id } });
    const spot = { lat: -33.8688, lng: 151.2093 };
    const venue = await addVenue(spot.lat, spot.lng, 'Harbour Bar');
    await checkIn(friend!.user.id, venue);
    await checkIn(ghost!.user.id, venue, false);
    await checkIn(stranger!.user.id, venue);
    await checkIn(blocked!.user.id, venue);

    const res = await api(ts, me!.accessToken).get(near(spot.lat, spot.lng, '&radius=500'));
    expect(res.status).toBe(200);
    const v = res.body.venues.find((x: { id: string }) => x.id === venue.id);
    expect(v.liveCount).toBe(4);
    expect(v.friendsPresent).toEqual([{ id: friend!.user.id, displayName: 'friend', profileImageUrl: null }]);

    const one = await api(ts, me!.accessToken).get(`/api/venues/${venue.id}`);
    expect(one.body.venue.friendsPresent.map((f: { id: string }) => f.id)).toEqual([friend!.user.id]);

    const anonymous = await api(ts).get(near(spot.lat, spot.lng, '&radius=500'));
    expect(anonymous.body.venues[0].friendsPresent).toEqual([]);
    const stranger2 = await api(ts, stranger!.accessToken).get(near(spot.lat, spot.lng, '&radius=500'));
    expect(stranger2.body.venues[0].friendsPresent).toEqual([]);
  });

  it('revalidates with an ETag that changes with the live count, and gzips large answers only when asked', async () => {
    const path = near(center.lat, center.lng, '&radius=5km');
    const plain = await rawGet(path);
    expect(plain.status).toBe(200);
    expect(plain.body.length).toBeGreaterThan(COMPRESS_FROM_BYTES);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, no-cache');
    expect(plain.headers.vary).toMatch(/Accept-Encoding/);
    const etag = plain.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]+"$/);

    const again = await rawGet(path, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);

    const zipped = await rawGet(path, { 'accept-encoding': 'gzip' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.etag).toBe(etag);
    expect(zipped.body.length).toBeLessThan(plain.body.length / 2);
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
    expect((await rawGet(path, { 'accept-encoding': 'br;q=1, gzip;q=0' })).headers['content-encoding']).toBeUndefined();

    // A stored copy must never outlive a count change: the same If-None-Match now gets the new answer.
    const first = (
      JSON.parse(plain.body.toString()) as { venues: { id: string; latitude: number; longitude: number; liveCount: number }[] }
    ).venues[0]!;
    const guest = await signIn(ts, uniqueEmail('etag'));
    await checkIn(guest.user.id, first);
    await expect
      .poll(async () => {
        const r = await rawGet(path, { 'if-none-match': etag });
        return r.status === 200 ? (JSON.parse(r.body.toString()) as { venues: { liveCount: number }[] }).venues[0]!.liveCount : r.status;
      })
      .toBe(first.liveCount + 1);
    expect((await rawGet(path)).headers.etag).not.toBe(etag);

    // An answer naming the caller's friends is for the caller's eyes only.
    const personal = await rawGet(path, { authorization: `Bearer ${guest.accessToken}` });
    expect(personal.headers['cache-control']).toBe('private, no-cache');
    expect(personal.headers.vary).toMatch(/Authorization/);
  });

  it('answers 401 for a bad or expired bearer token instead of silently going anonymous', async () => {
    const s = await signIn(ts, uniqueEmail('exp'));
    expect((await api(ts, 'not-a-token').get(near(1, 1))).status).toBe(401);
    expect((await api(ts, ts.server.ctx.tokens.sign(s.user.id, -5)).get(near(1, 1))).status).toBe(401);
  });
});

describe('GET /api/venues/:id', () => {
  it('answers one venue with live count, menu and only the specials running tonight', async () => {
    const venue = await addVenue(48.8566, 2.3522, 'Le Bar');
    const now = ts.server.ctx.now();
    const tonight = nightWeekday(venue.longitude, now);
    await ts.server.ctx.db.prisma.menuItem.create({ data: { venueId: venue.id, name: 'Kir', category: 'wine', priceCents: 900 } });
    await ts.server.ctx.db.prisma.menuItem.create({
      data: { venueId: venue.id, name: 'Gone', category: 'wine', priceCents: 900, available: false },
    });
    await ts.server.ctx.db.prisma.special.createMany({
      data: [
        { venueId: venue.id, title: 'Every night' },
        { venueId: venue.id, title: 'Tonight only', daysOfWeek: [tonight] },
        { venueId: venue.id, title: 'Another night', daysOfWeek: [(tonight + 1) % 7] },
        { venueId: venue.id, title: 'Over', validUntil: new Date(now - 1000) },
        { venueId: venue.id, title: 'Not yet', validFrom: new Date(now + 86_400_000) },
      ],
    });
    const user = await signIn(ts, uniqueEmail('paris'));
    await checkIn(user.user.id, venue);
    const res = await api(ts).get(`/api/venues/${venue.id}`);
    expect(res.status).toBe(200);
    expect(res.body.venue).toMatchObject({ id: venue.id, name: 'Le Bar', liveCount: 1 });
    expect(res.body.venue.distanceMeters).toBeUndefined();
    expect(res.body.venue.menu.map((m: { name: string }) => m.name)).toEqual(['Kir']);
    expect(res.body.venue.specialsTonight.map((s: { title: string }) => s.title).sort()).toEqual(['Every night', 'Tonight only']);
  });

  it('answers 404 for an unknown venue and 400 for a malformed id', async () => {
    const missing = await api(ts).get(`/api/venues/${randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
    const bad = await api(ts).get('/api/venues/%24%24%24');
    expect(bad.status).toBe(400);
  });
});
