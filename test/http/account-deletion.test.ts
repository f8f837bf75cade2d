import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { collect, emitOk, nextEvent, waitUntil } from '../helpers/socket';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { demoVenues, makeFriends } from '../helpers/users';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ RATE_LIMIT_AUTH_PER_MINUTE: '10000', CODE_RESEND_SECONDS: '0' }, { label: 'account_deletion' });
}, 60_000);
afterAll(async () => ts?.close());

async function codeFor(email: string): Promise<string> {
  const res = await api(ts).post('/api/auth/code/request', { channel: 'email', destination: email });
  expect(res.status).toBe(202);
  return res.body.devCode as string;
}

async function paidOrder(buyerToken: string, recipientId: string, venueId: string) {
  const created = await api(ts, buyerToken).post(
    '/api/orders',
    { recipientId, venueId, paymentMethod: 'STRIPE', amountCents: 900 },
    { 'Idempotency-Key': `k-${Math.random()}` },
  );
  expect(created.status).toBe(201);
  const paid = await api(ts).post(`/api/dev/payments/${created.body.payment.paymentIntentId}/succeed`);
  expect(paid.status).toBe(200);
  await waitUntil(
    async () => (await ts.server.ctx.db.prisma.order.findUniqueOrThrow({ where: { id: created.body.order.id } })).status === 'PAID',
  );
  return created.body.order.id as string;
}

describe('DELETE /api/me', () => {
  it('a user removed outside the API while this node still trusts it: a write refers to a gone row, a 4xx, never a 500', async () => {
    const me = await signIn(ts, uniqueEmail('vanished'));
    expect((await api(ts, me.accessToken).get('/api/me')).status).toBe(200);
    // An operator's hard delete, behind the API's back: no cutoff is set, and the node remembers the user.
    await ts.server.ctx.db.prisma.user.delete({ where: { id: me.user.id } });
    const res = await api(ts, me.accessToken).post('/api/groups', { name: 'after the delete' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(['CONFLICT', 'NOT_FOUND', 'UNAUTHENTICATED']).toContain(res.body.error.code);
    expect(await ts.server.ctx.db.prisma.group.count({ where: { name: 'after the delete' } })).toBe(0);
  });

  it('refuses without a fresh code for the account’s own address, changing nothing', async () => {
    const email = uniqueEmail('keeper');
    const me = await signIn(ts, email);
    const missing = await api(ts, me.accessToken).delete('/api/me');
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('VALIDATION');
    await codeFor(email);
    const wrong = await fetch(`${ts.url}/api/me`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${me.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'email', destination: email, code: '000000' }),
    });
    expect(wrong.status).toBe(401);
    const other = uniqueEmail('other');
    const otherCode = await codeFor(other);
    const foreign = await fetch(`${ts.url}/api/me`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${me.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'email', destination: other, code: otherCode }),
    });
    expect(foreign.status).toBe(403);
    // The other address's code was not spent, nor an account made for it.
    expect(await ts.server.ctx.db.prisma.user.count({ where: { email: other } })).toBe(0);
    expect((await api(ts, me.accessToken).get('/api/me')).status).toBe(200);
  });

  it('ends the stay, open treats, devices, sessions and sockets; keeps money and audit rows, anonymized', async () => {
    const ctx = ts.server.ctx;
    const prisma = ctx.db.prisma;
    const venue = (await demoVenues(ctx))[0]!;
    const here = { venueId: venue.id, lat: venue.latitude, lng: venue.longitude, wantsToReceive: true };
    const email = uniqueEmail('leaver');
    const leaver = await signIn(ts, email, 'Leaver');
    const friend = await signIn(ts, uniqueEmail('friend'), 'Friend');
    await makeFriends(ctx, leaver.user.id, friend.user.id);

    const friendPhone = await ts.connect(friend.accessToken);
    const leaverPhone = await ts.connect(leaver.accessToken);
    (leaverPhone.io.opts as { reconnection: boolean }).reconnection = false;
    await emitOk(friendPhone, ClientEvent.CheckIn, here);
    await emitOk(leaverPhone, ClientEvent.CheckIn, here);
    expect((await ctx.presence.getCounts([venue.id])).get(venue.id)!.count).toBe(2);
    const viewer = await ts.connect();
    await emitOk(viewer, ClientEvent.VenueWatch, { venueIds: [venue.id] });
    const counts = collect(viewer, 'venue:count');

    const bought = await paidOrder(leaver.accessToken, friend.user.id, venue.id);
    const received = await paidOrder(friend.accessToken, leaver.user.id, venue.id);
    const pushToken = `apns-${'a'.repeat(60)}`;
    expect((await api(ts, leaver.accessToken).post('/api/devices', { token: pushToken, platform: 'IOS' })).status).toBe(200);
    expect(await ts.server.services.devices.forUser(leaver.user.id, Date.now())).toHaveLength(1);

    const removed = nextEvent(
      friendPhone,
      'venue:people',
      (m) => m.changes.some((c) => c.type === 'remove' && c.userId === leaver.user.id),
      10_000,
    );
    const revoked = nextEvent(leaverPhone, 'auth:expired');
    const code = await codeFor(email);
    const res = await fetch(`${ts.url}/api/me`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${leaver.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'email', destination: email, code }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: true, endedOrders: 2 });

    // The stay ended like a leave: counts and people lists everywhere.
    expect(await revoked).toEqual({ reason: 'revoked' });
    await removed;
    expect((await ctx.presence.getCounts([venue.id])).get(venue.id)!.count).toBe(1);
    await waitUntil(() => counts.some((c) => c.venueId === venue.id && c.count === 1), 5_000);
    expect(await ctx.presence.get(leaver.user.id, Date.now())).toBeNull();
    // The close follows the notice by NOTICE_BEFORE_CLOSE_MS (100 ms), which the count change above may
    // beat on a busy box; a socket never closed still fails here.
    await waitUntil(() => !leaverPhone.connected, 5_000);
    expect(leaverPhone.connected).toBe(false);

    // Open treats ended through the orders module, each hold released.
    const orders = await prisma.order.findMany({ where: { id: { in: [bought, received] } } });
    expect(Object.fromEntries(orders.map((o) => [o.id, o.status]))).toEqual({ [bought]: 'CANCELLED', [received]: 'REJECTED' });
    for (const o of orders) expect(o.releasedAt).not.toBeNull();

    // Devices gone from PostgreSQL and DynamoDB.
    expect(await prisma.device.count({ where: { userId: leaver.user.id } })).toBe(0);
    expect(await ts.server.services.devices.forUser(leaver.user.id, Date.now())).toEqual([]);

    // Every credential refused: access token, refresh token, socket.
    for (const r of [
      await api(ts, leaver.accessToken).get('/api/me'),
      await api(ts, leaver.accessToken).post('/api/groups', { name: 'x' }),
      await api(ts).post('/api/auth/refresh', { refreshToken: leaver.refreshToken }),
    ]) {
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('UNAUTHENTICATED');
    }
    await expect(ts.connect(leaver.accessToken)).rejects.toMatchObject({ data: { code: 'UNAUTHENTICATED' } });
    // A token signed before the deletion is refused even after the cutoff ages out: the row says deleted.
    await ctx.redis!.main.del(`cutoff:${leaver.user.id}`);
    expect((await api(ts, ctx.tokens.sign(leaver.user.id)).get('/api/me')).status).toBe(401);

    // The money and audit trail stays, pointing at an anonymized row.
    const row = await prisma.user.findUniqueOrThrow({ where: { id: leaver.user.id } });
    expect(row).toMatchObject({ email: null, phone: null, displayName: 'Deleted account', profileImageUrl: null });
    expect(row.deletedAt).not.toBeNull();
    expect(await prisma.order.count({ where: { buyerId: leaver.user.id } })).toBe(1);
    const actions = (await prisma.auditLog.findMany({ where: { userId: leaver.user.id } })).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining(['auth.sign_in', 'order.created', 'order.cancelled', 'order.rejected', 'account.deleted']),
    );
    expect(await prisma.friendship.count({ where: { OR: [{ requesterId: leaver.user.id }, { addresseeId: leaver.user.id }] } })).toBe(0);

    // The address is free again: signing in with it makes a new, empty account.
    const reborn = await signIn(ts, email);
    expect(reborn.user.id).not.toBe(leaver.user.id);
    // Nobody may treat the deleted account; the refusal reads like any other.
    const treat = await api(ts, friend.accessToken).post(
      '/api/orders',
      { recipientId: leaver.user.id, venueId: venue.id, paymentMethod: 'STRIPE', amountCents: 900 },
      { 'Idempotency-Key': 'after-delete' },
    );
    expect(treat.status).toBe(403);
    expect(treat.body.error.code).toBe('FORBIDDEN');
    friendPhone.disconnect();
    viewer.disconnect();
  }, 60_000);
});
