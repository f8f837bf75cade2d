import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io as ioClient } from 'socket.io-client';
import { ClientEvent } from '../../protocol/events';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { emitAck, nextEvent, waitUntil } from '../helpers/socket';
import { startTestServer, type TestClient, type TestServer } from '../helpers/test-server';
import { createUser } from '../helpers/users';

let ts: TestServer;
let limited: TestServer;

beforeAll(async () => {
  [ts, limited] = await Promise.all([
    startTestServer({ SEED_DEMO_DATA: 'false' }, { label: 'credentials' }),
    startTestServer({ SEED_DEMO_DATA: 'false', TRUST_PROXY: 'loopback', SOCKET_CONNECTIONS_PER_IP: '2' }, { label: 'socket_per_ip' }),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([ts?.close(), limited?.close()]);
});

const closed = (s: TestClient) => new Promise<string>((res) => s.once('disconnect', (reason) => res(reason)));

describe('a socket lives only as long as its credentials', () => {
  it('is told auth:expired and closed when its access token expires, though it sends nothing', async () => {
    const user = await createUser(ts.server.ctx);
    const socket = await ts.connect(ts.server.ctx.tokens.sign(user.id, 3), { autoConnect: false });
    (socket.io.opts as { reconnection: boolean }).reconnection = false;
    // Listening before connecting: on a busy machine the connect itself can take a good part of the 3 s.
    const notice = nextEvent(socket, 'auth:expired', () => true, 8_000);
    const gone = closed(socket);
    const connected = new Promise<boolean>((res) => socket.once('connect', () => res(true)));
    socket.connect();
    expect(await connected).toBe(true);
    expect(await notice).toEqual({ reason: 'expired' });
    expect(await gone).toBe('io server disconnect');
    // Nothing private reaches it any more: the server holds no socket in the user's room.
    expect(ts.server.ctx.io.of('/').adapter.rooms.get(`user:${user.id}`)).toBeUndefined();
  });

  it('stays past the old expiry after auth:refresh with a fresh token of the same user', async () => {
    const user = await createUser(ts.server.ctx);
    const socket = await ts.connect(ts.server.ctx.tokens.sign(user.id, 2));
    const expired: unknown[] = [];
    socket.on('auth:expired', (m) => expired.push(m));
    const ack = await emitAck<{ expiresAt: string }>(socket, ClientEvent.AuthRefresh, { token: ts.server.ctx.tokens.sign(user.id, 120) });
    expect(ack.ok).toBe(true);
    if (ack.ok) expect(Date.parse(ack.data.expiresAt)).toBeGreaterThan(Date.now() + 100_000);
    await new Promise((r) => setTimeout(r, 3_500));
    expect(socket.connected).toBe(true);
    expect(expired).toEqual([]);
    expect(await emitAck(socket, ClientEvent.Heartbeat, {})).toMatchObject({ ok: true });
    socket.disconnect();
  });

  it('auth:refresh refuses another user’s token, a forged one and an anonymous socket', async () => {
    const [user, other] = [await createUser(ts.server.ctx), await createUser(ts.server.ctx)];
    const socket = await ts.connect(user.token);
    expect(await emitAck(socket, ClientEvent.AuthRefresh, { token: other.token })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    expect(await emitAck(socket, ClientEvent.AuthRefresh, { token: 'not-a-jwt' })).toMatchObject({
      ok: false,
      error: { code: 'UNAUTHENTICATED' },
    });
    expect(await emitAck(socket, ClientEvent.AuthRefresh, { token: 42 })).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    const anon = await ts.connect();
    expect(await emitAck(anon, ClientEvent.AuthRefresh, { token: user.token })).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    socket.disconnect();
    anon.disconnect();
  });

  it('logout-all ends live sockets and refuses the still-unexpired access token; a new sign-in works', async () => {
    const email = uniqueEmail('logout-all');
    const session = await signIn(ts, email);
    const socket = await ts.connect(session.accessToken);
    (socket.io.opts as { reconnection: boolean }).reconnection = false;
    const notice = nextEvent(socket, 'auth:expired');
    const gone = closed(socket);
    expect((await api(ts, session.accessToken).post('/api/auth/logout-all')).status).toBe(200);
    expect(await notice).toEqual({ reason: 'revoked' });
    expect(await gone).toBe('io server disconnect');

    const me = await api(ts, session.accessToken).get('/api/me');
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('UNAUTHENTICATED');
    expect((await api(ts, session.accessToken).post('/api/groups', { name: 'after' })).status).toBe(401);
    await expect(ts.connect(session.accessToken)).rejects.toMatchObject({ data: { code: 'UNAUTHENTICATED' } });
    // The cutoff is in Redis, shared by every node.
    expect(await ts.server.ctx.redis!.main.get(`cutoff:${session.user.id}`)).not.toBeNull();

    const again = await signIn(ts, email);
    expect((await api(ts, again.accessToken).get('/api/me')).status).toBe(200);
    const fresh = await ts.connect(again.accessToken);
    expect(fresh.connected).toBe(true);
    fresh.disconnect();
  });

  it('a validly signed token whose user row is gone is 401 on every route and at the socket, never a 500', async () => {
    const user = await createUser(ts.server.ctx);
    await ts.server.ctx.db.prisma.user.delete({ where: { id: user.id } });
    const calls = [
      api(ts, user.token).get('/api/me'),
      api(ts, user.token).get('/api/friends'),
      api(ts, user.token).post('/api/groups', { name: 'ghost' }),
      api(ts, user.token).post('/api/devices', { token: 'x'.repeat(64), platform: 'IOS' }),
      api(ts, user.token).post('/api/friends/requests', { userId: 'someone' }),
      api(ts, user.token).post('/api/blocks', { userId: 'someone' }),
      api(ts, user.token).get('/api/orders'),
      api(ts, user.token).get('/api/venues?lat=40.7128&lng=-74.006'),
    ];
    for (const res of await Promise.all(calls)) {
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('UNAUTHENTICATED');
    }
    await expect(ts.connect(user.token)).rejects.toMatchObject({ data: { code: 'UNAUTHENTICATED' } });
  });
});

describe('SOCKET_CONNECTIONS_PER_IP', () => {
  const connectAs = (address: string) =>
    new Promise<TestClient>((res, rej) => {
      const s: TestClient = ioClient(limited.url, {
        transports: ['websocket'],
        forceNew: true,
        reconnection: false,
        extraHeaders: { 'X-Forwarded-For': address },
      });
      s.once('connect', () => res(s));
      s.once('connect_error', (err) => {
        s.close();
        rej(err);
      });
    });

  it('refuses a client address past its limit (resolved through the trusted proxy); others and freed slots still connect', async () => {
    const a1 = await connectAs('203.0.113.9');
    const a2 = await connectAs('203.0.113.9');
    await expect(connectAs('203.0.113.9')).rejects.toBeDefined();
    const b = await connectAs('203.0.113.10');
    expect(b.connected).toBe(true);
    a1.disconnect();
    await waitUntil(
      async () => {
        try {
          (await connectAs('203.0.113.9')).disconnect();
          return true;
        } catch {
          return false;
        }
      },
      5_000,
      100,
    );
    a2.disconnect();
    b.disconnect();
  });
});
