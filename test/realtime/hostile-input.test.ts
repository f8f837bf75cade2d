import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import { emitAck, emitOk } from '../helpers/socket';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { createUser, demoVenues, type TestUser } from '../helpers/users';

let ts: TestServer;
let user: TestUser;
let venue: { id: string; latitude: number; longitude: number };

beforeAll(async () => {
  ts = await startTestServer(
    { SOCKET_EVENTS_PER_SECOND: '5', SOCKET_EVENTS_BURST: '10', SOCKET_MAX_MESSAGE_BYTES: '4096' },
    { label: 'hostile' },
  );
  user = await createUser(ts.server.ctx, 'hostile');
  venue = (await demoVenues(ts.server.ctx))[0]!;
});
afterAll(async () => ts?.close());

async function countAt(venueId: string) {
  return (await ts.server.ctx.presence.getCounts([venueId])).get(venueId)!.count;
}

const malformed: [string, unknown][] = [
  [ClientEvent.CheckIn, { venueId: 'x' }],
  [ClientEvent.CheckIn, { venueId: '../../etc', lat: 0, lng: 0 }],
  [ClientEvent.CheckIn, { venueId: 'v', lat: 91, lng: 0 }],
  [ClientEvent.CheckIn, { venueId: 'v', lat: 'NaN', lng: 0 }],
  [ClientEvent.CheckIn, { venueId: 'v', lat: 0, lng: 0, admin: true }],
  [ClientEvent.CheckIn, 'a string'],
  [ClientEvent.CheckIn, [1, 2, 3]],
  [ClientEvent.Heartbeat, { lat: 1000 }],
  [ClientEvent.PresenceUpdate, {}],
  [ClientEvent.PresenceUpdate, { visible: 'yes' }],
  [ClientEvent.VenueWatch, { venueIds: [] }],
  [ClientEvent.VenueWatch, { venueIds: Array.from({ length: 201 }, (_, i) => `v${i}`) }],
  [ClientEvent.MapWatch, { bbox: [0, 10, 1, 5] }],
  [ClientEvent.MapWatch, { bbox: [0, 0, 1] }],
  [ClientEvent.Leave, { venueId: 42 }],
];

describe('hostile socket input', () => {
  it.each(malformed)('%s with %j gets a VALIDATION ack and changes nothing', async (event, payload) => {
    const phone = await ts.connect(user.token);
    const before = await countAt(venue.id);
    const ack = await emitAck(phone, event, payload);
    expect(ack).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    if (!ack.ok) expect(ack.error.issues?.length).toBeGreaterThan(0);
    expect(await countAt(venue.id)).toBe(before);
    expect(await ts.server.ctx.presence.get(user.id, Date.now())).toBeNull();
    phone.disconnect();
  });

  it('an anonymous viewer may watch but not check in, heartbeat, leave or update', async () => {
    const anon = await ts.connect();
    for (const [event, payload] of [
      [ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude }],
      [ClientEvent.Heartbeat, {}],
      [ClientEvent.Leave, {}],
      [ClientEvent.PresenceUpdate, { wantsToBuy: true }],
    ] as const) {
      expect(await emitAck(anon, event, payload)).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
    }
    expect(await emitAck(anon, ClientEvent.VenueWatch, { venueIds: [venue.id] })).toMatchObject({ ok: true });
    expect(await countAt(venue.id)).toBe(0);
    anon.disconnect();
  });

  it('refuses forged, expired, alg:none and wrong-algorithm tokens at the handshake', async () => {
    const secret = ts.config.JWT_SECRET!;
    const base = { typ: 'access', sub: user.id, iss: 'treatme', aud: 'treatme-app' };
    const tokens = [
      jwt.sign(base, 'another-secret-another-secret-another-secret'),
      jwt.sign({ ...base, exp: Math.floor(Date.now() / 1000) - 10 }, secret),
      `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ ...base, exp: 9999999999 })).toString('base64url')}.`,
      jwt.sign(base, secret, { algorithm: 'HS512' }),
      'not-a-jwt',
    ];
    for (const token of tokens) {
      await expect(ts.connect(token)).rejects.toMatchObject({ data: { code: 'UNAUTHENTICATED' } });
    }
  });

  it('rate-limits a flooding socket with RATE_LIMITED acks and keeps serving others', async () => {
    const flood = await ts.connect(user.token);
    const acks = await Promise.all(Array.from({ length: 30 }, () => emitAck(flood, ClientEvent.Heartbeat, {})));
    const limited = acks.filter((a) => !a.ok && a.error.code === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThanOrEqual(15);
    const calm = await ts.connect((await createUser(ts.server.ctx)).token);
    expect(await emitAck(calm, ClientEvent.Heartbeat, {})).toMatchObject({ ok: true });
    flood.disconnect();
    calm.disconnect();
  });

  it('drops a connection that sends an oversized message; the server stays up', async () => {
    const big = await ts.connect(user.token);
    const closed = new Promise<string>((res) => big.once('disconnect', (reason) => res(reason)));
    (big as unknown as { emit(...a: unknown[]): void }).emit(ClientEvent.CheckIn, { venueId: 'x'.repeat(10_000), lat: 0, lng: 0 });
    expect(await closed).toBe('transport close');
    big.disconnect();
    const after = await ts.connect(user.token);
    expect(await emitOk(after, ClientEvent.Heartbeat, {})).toEqual({ presence: null });
    after.disconnect();
    const res = await fetch(`${ts.url}/health`);
    expect(res.status).toBe(200);
  });

  it('an event with no ack callback and junk arguments does not crash the process', async () => {
    const s = await ts.connect(user.token);
    (s as unknown as { emit(...a: unknown[]): void }).emit(ClientEvent.CheckIn, null, 1, 2);
    (s as unknown as { emit(...a: unknown[]): void }).emit(ClientEvent.CheckIn);
    (s as unknown as { emit(...a: unknown[]): void }).emit('no:such:event', { x: 1 });
    expect(await emitAck(s, ClientEvent.Heartbeat, {})).toMatchObject({ ok: true });
    s.disconnect();
  });
});
