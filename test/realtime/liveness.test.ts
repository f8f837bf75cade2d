import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import { emitOk, nextEvent, waitUntil } from '../helpers/socket';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { createUser, demoVenues, makeFriends } from '../helpers/users';

let ts: TestServer;
let venues: Awaited<ReturnType<typeof demoVenues>>;

beforeAll(async () => {
  ts = await startTestServer(
    {
      PRESENCE_TIMEOUT_SECONDS: '5',
      PRESENCE_LEASE_EXTRA_SECONDS: '60',
      PRESENCE_LEASE_REFRESH_SECONDS: '10',
      PRESENCE_GRACE_SECONDS: '1',
      SWEEP_INTERVAL_MS: '200',
      COUNT_COALESCE_MS: '50',
    },
    { label: 'liveness' },
  );
  venues = await demoVenues(ts.server.ctx);
});
afterAll(async () => ts?.close());

const count = async (venueId: string) => (await ts.server.ctx.presence.getCounts([venueId])).get(venueId)!.count;

/**
 * Fault injection on the real store: check-ins wait at a gate until released, as when DynamoDB is
 * slow. `entered` resolves once one is held.
 */
function holdCheckIns() {
  const store = ts.server.ctx.presence;
  const realCheckIn = store.checkIn.bind(store);
  let entered!: () => void;
  let release!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const gate = new Promise<void>((r) => (release = r));
  store.checkIn = async (input) => {
    entered();
    await gate;
    return realCheckIn(input);
  };
  return { inside, release, restore: () => (store.checkIn = realCheckIn) };
}

describe('heartbeats and timeouts', () => {
  it('ends a stay exactly one timeout after the last heartbeat, though its stored lease runs much longer', async () => {
    const venue = venues[6]!;
    const user = await createUser(ts.server.ctx, 'silent');
    const viewer = await ts.connect();
    await emitOk(viewer, ClientEvent.VenueWatch, { venueIds: [venue.id] });
    const phone = await ts.connect(user.token);
    const res = await emitOk<{ presence: { expiresAt: string } }>(phone, ClientEvent.CheckIn, {
      venueId: venue.id,
      lat: venue.latitude,
      lng: venue.longitude,
    });
    // The stored lease is timeout + extra (65 s), yet the stay ends at the 5 s timeout.
    expect(Date.parse(res.presence.expiresAt) - Date.now()).toBeGreaterThan(30_000);
    const started = Date.now();
    const ended = nextEvent(viewer, 'venue:count', (c) => c.venueId === venue.id && c.count === 0, 10_000);
    expect(await count(venue.id)).toBe(1);
    await ended;
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_000);
    expect(await ts.server.ctx.presence.get(user.id, Date.now())).toBeNull();
    await waitUntil(async () => (await ts.server.ctx.db.prisma.presence.findUnique({ where: { userId: user.id } })) === null);
    // The socket is still open: its next heartbeat learns the stay is over.
    expect(await emitOk(phone, ClientEvent.Heartbeat, {})).toEqual({ presence: null });
  });

  it('keeps a heartbeating phone counted past the timeout', async () => {
    const venue = venues[7]!;
    const user = await createUser(ts.server.ctx, 'beating');
    const phone = await ts.connect(user.token);
    await emitOk(phone, ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude });
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await emitOk(phone, ClientEvent.Heartbeat, {})).toMatchObject({ presence: { venueId: venue.id } });
    }
    expect(await count(venue.id)).toBe(1);
    await emitOk(phone, ClientEvent.Leave, {});
    expect(await count(venue.id)).toBe(0);
  });

  it('ends a closed socket’s stay after the grace period and tells friends it is over', async () => {
    const venue = venues[8]!;
    const [me, friend] = [await createUser(ts.server.ctx, 'gone'), await createUser(ts.server.ctx, 'pal')];
    await makeFriends(ts.server.ctx, me.id, friend.id);
    const friendPhone = await ts.connect(friend.token);
    const phone = await ts.connect(me.token);
    await emitOk(phone, ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude });
    await nextEvent(friendPhone, 'friend:presence', (m) => m.userId === me.id && m.venueId === venue.id);
    const over = nextEvent(friendPhone, 'friend:presence', (m) => m.userId === me.id && m.venueId === null, 10_000);
    phone.disconnect();
    const closedAt = Date.now();
    await over;
    expect(await count(venue.id)).toBe(0);
    // The sweeper says how far it has caught up: past the end of this grace period, soon after it.
    const sweptThrough = async () => {
      const text = await (await fetch(`${ts.url}/metrics`)).text();
      return Number(/^treatme_presence_swept_through_seconds (\S+)$/m.exec(text)?.[1] ?? 0) * 1000;
    };
    await waitUntil(async () => (await sweptThrough()) > closedAt + 1_000);
    await waitUntil(async () => (await ts.server.ctx.db.prisma.presence.findUnique({ where: { userId: me.id } })) === null);
  });

  it('starts the grace period for a check-in still in flight when the socket closed', async () => {
    const venue = venues[9]!;
    const user = await createUser(ts.server.ctx, 'dropped');
    const viewer = await ts.connect();
    await emitOk(viewer, ClientEvent.VenueWatch, { venueIds: [venue.id] });
    const phone = await ts.connect(user.token);
    // The check-in's write is held until the socket has closed, as when the phone dies while DynamoDB is slow.
    const held = holdCheckIns();
    try {
      const counted = nextEvent(viewer, 'venue:count', (c) => c.venueId === venue.id && c.count === 1, 10_000);
      phone.emit(ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude }, () => {});
      await held.inside;
      phone.disconnect();
      const closedAt = Date.now();
      await waitUntil(async () => !ts.server.ctx.io.of('/').sockets.has(phone.id ?? ''));
      held.release();
      await counted;
      await nextEvent(viewer, 'venue:count', (c) => c.venueId === venue.id && c.count === 0, 20_000);
      // The 1 s grace from the close, not the 5 s heartbeat timeout nor the 65 s lease, ended it.
      expect(Date.now() - closedAt).toBeLessThan(4_000);
    } finally {
      held.restore();
    }
  });

  it('answers a heartbeat sent after a slow check-in with that check-in, not the stay before it', async () => {
    const [first, second] = [venues[10]!, venues[11]!];
    const user = await createUser(ts.server.ctx, 'mover');
    const phone = await ts.connect(user.token);
    await emitOk(phone, ClientEvent.CheckIn, { venueId: first.id, lat: first.latitude, lng: first.longitude });
    const held = holdCheckIns();
    try {
      const moved = emitOk(phone, ClientEvent.CheckIn, { venueId: second.id, lat: second.latitude, lng: second.longitude });
      await held.inside;
      const beat = emitOk<{ presence: { venueId: string } | null }>(phone, ClientEvent.Heartbeat, {});
      // The heartbeat waits behind the check-in instead of answering from memory with the old venue.
      await new Promise((r) => setTimeout(r, 200));
      held.release();
      await moved;
      expect((await beat).presence?.venueId).toBe(second.id);
    } finally {
      held.restore();
    }
    await emitOk(phone, ClientEvent.Leave, {});
  });
});
