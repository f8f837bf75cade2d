import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import type { CheckInResult, VenueCount } from '../../protocol/events';
import { collect, emitAck, emitOk, nextEvent, waitUntil } from '../helpers/socket';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { createUser, createUsers, demoVenues, makeFriends } from '../helpers/users';

let ts: TestServer;
let venues: Awaited<ReturnType<typeof demoVenues>>;

beforeAll(async () => {
  ts = await startTestServer(
    { COUNT_COALESCE_MS: '100', PRESENCE_GRACE_SECONDS: '1', COUNT_RESYNC_INTERVAL_MS: '1000' },
    { label: 'realtime' },
  );
  venues = await demoVenues(ts.server.ctx);
});
afterAll(async () => ts?.close());

const at = (v: { latitude: number; longitude: number }) => ({ lat: v.latitude, lng: v.longitude });

describe('check-in, counts and fan-out on one node', () => {
  it('a check-in is counted, acknowledged with the count, and reaches a venue watcher and a map viewer', async () => {
    const venue = venues[0]!;
    const user = await createUser(ts.server.ctx, 'alice');
    const viewer = await ts.connect();
    const mapViewer = await ts.connect();
    const snap = await emitOk<{ counts: VenueCount[] }>(viewer, ClientEvent.VenueWatch, { venueIds: [venue.id] });
    expect(snap.counts).toEqual([{ venueId: venue.id, count: 0, version: 0 }]);
    await emitOk(mapViewer, ClientEvent.MapWatch, {
      bbox: [venue.longitude - 0.01, venue.latitude - 0.01, venue.longitude + 0.01, venue.latitude + 0.01],
    });

    const phone = await ts.connect(user.token);
    const seenByWatcher = nextEvent(viewer, 'venue:count', (c) => c.venueId === venue.id && c.count === 1);
    const seenOnMap = nextEvent(mapViewer, 'venue:count', (c) => c.venueId === venue.id && c.count === 1);
    const res = await emitOk<CheckInResult>(phone, ClientEvent.CheckIn, { venueId: venue.id, ...at(venue), wantsToReceive: true });
    expect(res.count).toMatchObject({ venueId: venue.id, count: 1 });
    expect(res.presence).toMatchObject({ venueId: venue.id, wantsToReceive: true, visible: true });
    await seenByWatcher;
    await seenOnMap;
  });

  it('a duplicate check-in changes nothing; a move is one step; leave twice ends once', async () => {
    const [a, b] = venues;
    const user = await createUser(ts.server.ctx, 'mover');
    const phone = await ts.connect(user.token);
    const before = await ts.server.ctx.presence.getCounts([a!.id, b!.id]);
    await emitOk(phone, ClientEvent.CheckIn, { venueId: a!.id, ...at(a!) });
    await emitOk(phone, ClientEvent.CheckIn, { venueId: a!.id, ...at(a!) });
    let counts = await ts.server.ctx.presence.getCounts([a!.id, b!.id]);
    expect(counts.get(a!.id)!.count).toBe(before.get(a!.id)!.count + 1);

    const moved = await emitOk<CheckInResult>(phone, ClientEvent.CheckIn, { venueId: b!.id, ...at(b!) });
    expect(moved.previousVenueId).toBe(a!.id);
    counts = await ts.server.ctx.presence.getCounts([a!.id, b!.id]);
    expect(counts.get(a!.id)!.count).toBe(before.get(a!.id)!.count);
    expect(counts.get(b!.id)!.count).toBe(before.get(b!.id)!.count + 1);

    // A late leave for the venue the user already moved away from must not end the newer stay.
    expect(await emitOk(phone, ClientEvent.Leave, { venueId: a!.id })).toEqual({ left: false });
    expect(await emitOk(phone, ClientEvent.Leave, {})).toEqual({ left: true });
    expect(await emitOk(phone, ClientEvent.Leave, {})).toEqual({ left: false });
    counts = await ts.server.ctx.presence.getCounts([a!.id, b!.id]);
    expect(counts.get(b!.id)!.count).toBe(before.get(b!.id)!.count);
  });

  it('refuses a check-in from far away, and one at an unknown venue', async () => {
    const venue = venues[1]!;
    const phone = await ts.connect((await createUser(ts.server.ctx)).token);
    const far = await emitAck(phone, ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude + 0.05, lng: venue.longitude });
    expect(far).toMatchObject({ ok: false, error: { code: 'TOO_FAR' } });
    const unknown = await emitAck(phone, ClientEvent.CheckIn, { venueId: 'no-such-venue', lat: 0, lng: 0 });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect((await ts.server.ctx.presence.getCounts([venue.id])).get(venue.id)!.count).toBe(0);
  });

  it('coalesces 50 arrivals into a handful of broadcasts that end on the exact count', async () => {
    const venue = venues[2]!;
    const users = await createUsers(ts.server.ctx, 50, 'crowd');
    const viewer = await ts.connect();
    await emitOk(viewer, ClientEvent.VenueWatch, { venueIds: [venue.id] });
    const seen = collect(viewer, 'venue:count');
    const phones = await Promise.all(users.map((u) => ts.connect(u.token)));
    await Promise.all(phones.map((p) => emitOk(p, ClientEvent.CheckIn, { venueId: venue.id, ...at(venue) })));
    await waitUntil(() => seen.at(-1)?.count === 50, 5_000);
    expect(seen.length).toBeLessThan(25);
    const versions = seen.map((s) => s.version);
    expect([...versions].sort((x, y) => x - y)).toEqual(versions);
    for (const p of phones) p.disconnect();
  });

  it('tells friends where a friend checked in, and hides a ghost', async () => {
    const venue = venues[3]!;
    const [me, friend, stranger] = await Promise.all([
      createUser(ts.server.ctx, 'me'),
      createUser(ts.server.ctx, 'friend'),
      createUser(ts.server.ctx, 'stranger'),
    ]);
    await makeFriends(ts.server.ctx, me.id, friend.id);
    const friendPhone = await ts.connect(friend.token);
    const strangerPhone = await ts.connect(stranger.token);
    const strangerSaw = collect(strangerPhone, 'friend:presence');
    const myPhone = await ts.connect(me.token);
    const heard = nextEvent(friendPhone, 'friend:presence', (m) => m.userId === me.id && m.venueId === venue.id);
    await emitOk(myPhone, ClientEvent.CheckIn, { venueId: venue.id, ...at(venue) });
    await heard;
    const hidden = nextEvent(friendPhone, 'friend:presence', (m) => m.userId === me.id && m.venueId === null);
    await emitOk(myPhone, ClientEvent.PresenceUpdate, { visible: false });
    await hidden;
    expect(strangerSaw).toEqual([]);
  });

  it('tells each friend about their own friends only, when many check in at once, and never someone in a block', async () => {
    const venue = venues[5]!;
    const people = await Promise.all(Array.from({ length: 6 }, (_, i) => createUser(ts.server.ctx, `crowd-${i}`)));
    const [a, b, c] = [people[0]!, people[1]!, people[2]!];
    const pal = await createUser(ts.server.ctx, 'pal');
    await makeFriends(ts.server.ctx, a.id, pal.id);
    await makeFriends(ts.server.ctx, pal.id, b.id);
    // A block that raced an accepted friendship: the friendship row is still there.
    await makeFriends(ts.server.ctx, c.id, pal.id);
    await ts.server.ctx.db.prisma.block.create({ data: { blockerId: pal.id, blockedId: c.id } });
    const palPhone = await ts.connect(pal.token);
    const heard = collect(palPhone, 'friend:presence');
    const phones = await Promise.all(people.map((p) => ts.connect(p.token)));
    await Promise.all(phones.map((ph) => emitOk(ph, ClientEvent.CheckIn, { venueId: venue.id, ...at(venue) })));
    await waitUntil(() => heard.length >= 2, 5_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(heard.map((m) => m.userId).sort()).toEqual([a.id, b.id].sort());
    expect(heard.every((m) => m.venueId === venue.id)).toBe(true);
    for (const ph of phones) ph.disconnect();
  });

  it('keeps a stay through a short disconnect and ends it after the grace period', async () => {
    const venue = venues[4]!;
    const user = await createUser(ts.server.ctx, 'flaky');
    const phone = await ts.connect(user.token);
    await emitOk(phone, ClientEvent.CheckIn, { venueId: venue.id, ...at(venue) });
    phone.disconnect();
    await new Promise((r) => setTimeout(r, 300));
    const back = await ts.connect(user.token);
    await waitUntil(async () => (await ts.server.ctx.presence.get(user.id, Date.now()))?.expiresAt! > Date.now() + 5_000);
    back.disconnect();
    await waitUntil(async () => (await ts.server.ctx.presence.get(user.id, Date.now())) === null, 5_000);
  });

  it('repairs a count whose broadcast was lost within one resync interval', async () => {
    const venue = venues[9]!;
    const viewer = await ts.connect();
    await emitOk(viewer, ClientEvent.VenueWatch, { venueIds: [venue.id] });
    const user = await createUser(ts.server.ctx, 'unannounced');
    const repaired = nextEvent(viewer, 'venue:count', (c) => c.venueId === venue.id && c.count === 1, 5_000);
    // A write that no handler published (as when a node dies between its write and its broadcast).
    await ts.server.ctx.presence.checkIn({
      userId: user.id,
      venueId: venue.id,
      lat: venue.latitude,
      lng: venue.longitude,
      now: Date.now(),
    });
    await repaired;
    expect(await (await fetch(`${ts.url}/metrics`)).text()).toMatch(/treatme_venue_count_resync_repairs_total\{reason="periodic"\} [1-9]/);
  });

  it('writes the durable check-in to PostgreSQL off the hot path, and removes it on leave', async () => {
    const venue = venues[5]!;
    const user = await createUser(ts.server.ctx, 'durable');
    const phone = await ts.connect(user.token);
    await emitOk(phone, ClientEvent.CheckIn, { venueId: venue.id, ...at(venue), wantsToBuy: true });
    await waitUntil(async () => (await ts.server.ctx.db.prisma.presence.findUnique({ where: { userId: user.id } }))?.venueId === venue.id);
    await emitOk(phone, ClientEvent.Leave, {});
    await waitUntil(async () => (await ts.server.ctx.db.prisma.presence.findUnique({ where: { userId: user.id } })) === null);
  });
});
