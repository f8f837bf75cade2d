import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import type { SessionResponse } from '../../protocol/http/auth';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { startCluster, type Cluster, type ClusterNode } from '../helpers/cluster';
import { emitOk, nextEvent, waitUntil } from '../helpers/socket';
import type { TestClient } from '../helpers/test-server';

/**
 * Two real server processes on one PostgreSQL schema, Redis prefix and DynamoDB table prefix. Ending a
 * user's sessions on one node (logout-all, account deletion) must end that user's live sockets on the
 * other node too, and the other node must refuse the still-unexpired access token: the per-user cutoff
 * lives in the shared stores, not in the node that took the request.
 */
let cluster: Cluster;
let a: ClusterNode;
let b: ClusterNode;
let venue: { id: string; latitude: number; longitude: number };

beforeAll(async () => {
  cluster = await startCluster(2, { RATE_LIMIT_AUTH_PER_MINUTE: '10000', CODE_RESEND_SECONDS: '0' }, 'cutoffs');
  [a, b] = cluster.nodes as [ClusterNode, ClusterNode];
  venue = await cluster.db.prisma.venue.findFirstOrThrow({ orderBy: { slug: 'asc' } });
}, 120_000);
afterAll(async () => cluster?.close(), 60_000);

const closed = (s: TestClient) => new Promise<string>((res) => s.once('disconnect', (reason) => res(reason)));

/** A phone on `node` that does not reconnect on its own, with its revocation notice and close listened for. */
async function phone(node: ClusterNode, token: string) {
  const socket = await cluster.connect(node, token);
  return { socket, notice: nextEvent(socket, 'auth:expired', () => true, 15_000), gone: closed(socket) };
}

/** What the other node says to the token now: every route and the socket handshake. */
async function refusedEverywhere(node: ClusterNode, session: SessionResponse) {
  for (const res of [
    await api(node, session.accessToken).get('/api/me'),
    await api(node, session.accessToken).get('/api/friends'),
    await api(node, session.accessToken).post('/api/groups', { name: 'after the cutoff' }),
    await api(node).post('/api/auth/refresh', { refreshToken: session.refreshToken }),
  ]) {
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('UNAUTHENTICATED');
  }
  await expect(cluster.connect(node, session.accessToken)).rejects.toMatchObject({ data: { code: 'UNAUTHENTICATED' } });
}

describe('session cutoffs across two server processes', () => {
  it('logout-all on node A ends the user’s sockets on A and B; B refuses the unexpired access token with 401', async () => {
    const email = uniqueEmail('logout-all-2n');
    const session = await signIn(a, email);
    const onA = await phone(a, session.accessToken);
    const onB = await phone(b, session.accessToken);
    const onB2 = await phone(b, session.accessToken);
    // Live and authenticated on both nodes before the cutoff: a friend's treat, paid through node A,
    // reaches the user's private room on node B.
    expect((await api(b, session.accessToken).get('/api/me')).status).toBe(200);
    await emitOk(onB.socket, ClientEvent.Heartbeat, {});
    const friend = await cluster.db.prisma.user.create({ data: { displayName: 'Treater', email: uniqueEmail('treater') } });
    await cluster.db.prisma.friendship.create({
      data: { requesterId: friend.id, addresseeId: session.user.id, status: 'ACCEPTED', acceptedAt: new Date() },
    });
    const received = nextEvent(onB.socket, 'order:received', () => true, 15_000);
    const treat = await api(a, cluster.tokens.sign(friend.id)).post(
      '/api/orders',
      { recipientId: session.user.id, venueId: venue.id, paymentMethod: 'STRIPE', amountCents: 700 },
      { 'Idempotency-Key': `cutoff-treat-${Date.now()}` },
    );
    expect(treat.status).toBe(201);
    expect((await api(a).post(`/api/dev/payments/${treat.body.payment.paymentIntentId}/succeed`)).status).toBe(200);
    expect((await received).order.id).toBe(treat.body.order.id);

    expect((await api(a, session.accessToken).post('/api/auth/logout-all')).status).toBe(200);

    for (const p of [onA, onB, onB2]) {
      expect(await p.notice).toEqual({ reason: 'revoked' });
      expect(await p.gone).toBe('io server disconnect');
    }
    await refusedEverywhere(b, session);
    await refusedEverywhere(a, session);

    // A new sign-in after the cutoff works on either node.
    const again = await signIn(b, email);
    expect((await api(a, again.accessToken).get('/api/me')).status).toBe(200);
    const fresh = await cluster.connect(a, again.accessToken);
    expect(fresh.connected).toBe(true);
    fresh.disconnect();
  });

  it('DELETE /api/me on node A ends the user’s sockets and stay on A and B; B refuses the token with 401', async () => {
    const email = uniqueEmail('deleted-2n');
    const session = await signIn(a, email);
    const onA = await phone(a, session.accessToken);
    const onB = await phone(b, session.accessToken);
    // Checked in through node B: the stay, and the venue's count, must end with the account.
    const before = (await cluster.store.getCounts([venue.id])).get(venue.id)?.count ?? 0;
    await emitOk(onB.socket, ClientEvent.CheckIn, { venueId: venue.id, lat: venue.latitude, lng: venue.longitude });
    expect((await cluster.store.getCounts([venue.id])).get(venue.id)!.count).toBe(before + 1);

    const sent = await api(a).post('/api/auth/code/request', { channel: 'email', destination: email });
    expect(sent.status).toBe(202);
    const res = await fetch(`${a.url}/api/me`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${session.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'email', destination: email, code: sent.body.devCode }),
    });
    expect(res.status).toBe(200);

    for (const p of [onA, onB]) {
      expect(await p.notice).toEqual({ reason: 'revoked' });
      expect(await p.gone).toBe('io server disconnect');
    }
    await waitUntil(async () => (await cluster.store.getCounts([venue.id])).get(venue.id)!.count === before, 10_000, 100);
    expect(await cluster.store.get(session.user.id, Date.now())).toBeNull();
    await refusedEverywhere(b, session);
    // A token issued after the deletion (a refresh that raced it) is refused too, by the node that had
    // just seen the user alive and would otherwise trust that memory for a while. Found by this test.
    expect((await api(b, cluster.tokens.sign(session.user.id)).get('/api/me')).status).toBe(401);
  });

  it('every operation that takes a token refuses one whose user is gone with 401, on either node, and so does the socket', async () => {
    // Removed underneath the servers before any node saw it...
    const ghost = await cluster.db.prisma.user.create({ data: { displayName: 'Gone', email: uniqueEmail('gone') } });
    const ghostToken = cluster.tokens.sign(ghost.id);
    await cluster.db.prisma.user.delete({ where: { id: ghost.id } });
    // ...and deleted through node A right after node B saw it alive, as a live client would have been.
    const email = uniqueEmail('deleted-everywhere');
    const session = await signIn(a, email);
    expect((await api(b, session.accessToken).get('/api/me')).status).toBe(200);
    const sent = await api(a).post('/api/auth/code/request', { channel: 'email', destination: email });
    const deleted = await fetch(`${a.url}/api/me`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${session.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'email', destination: email, code: sent.body.devCode }),
    });
    expect(deleted.status).toBe(200);

    const doc = (await (await fetch(`${a.url}/api/openapi.json`)).json()) as {
      paths: Record<
        string,
        Record<string, { security?: Record<string, unknown>[]; parameters?: { name: string; in: string; schema: { enum?: string[] } }[] }>
      >;
    };
    const checked: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (!op.security?.some((s) => 'bearer' in s)) continue;
        // A well-formed value for each path parameter (an enum's first), so nothing but the token is wrong.
        const url = path.replace(
          /\{([^}]+)\}/g,
          (_m, name: string) => op.parameters?.find((p) => p.name === name)?.schema.enum?.[0] ?? 'x1',
        );
        for (const [node, token] of [
          [a, ghostToken],
          [b, ghostToken],
          [b, session.accessToken],
        ] as const) {
          const res = await fetch(`${node.url}${url}`, {
            method: method.toUpperCase(),
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'Idempotency-Key': `ghost-${Date.now()}` },
            ...(method === 'get' ? {} : { body: '{}' }),
          });
          const body = (await res.json()) as { error?: { code?: string } };
          expect([`${method} ${path}`, res.status, body.error?.code]).toEqual([`${method} ${path}`, 401, 'UNAUTHENTICATED']);
        }
        checked.push(`${method} ${path}`);
      }
    }
    expect(checked.length).toBeGreaterThan(35);
    for (const node of [a, b]) {
      for (const token of [ghostToken, session.accessToken]) {
        await expect(cluster.connect(node, token)).rejects.toMatchObject({ data: { code: 'UNAUTHENTICATED' } });
      }
    }
  });

  it('a socket is closed at its token’s expiry on its node; one refreshed over the socket stays and still hears its treats', async () => {
    const user = await cluster.db.prisma.user.create({ data: { displayName: 'Short-lived', email: uniqueEmail('short') } });
    const friend = await cluster.db.prisma.user.create({ data: { displayName: 'Buyer', email: uniqueEmail('buyer') } });
    await cluster.db.prisma.friendship.create({
      data: { requesterId: friend.id, addresseeId: user.id, status: 'ACCEPTED', acceptedAt: new Date() },
    });
    const stale = await phone(b, cluster.tokens.sign(user.id, 4));
    const kept = await cluster.connect(b, cluster.tokens.sign(user.id, 4));
    expect(await emitOk(kept, ClientEvent.AuthRefresh, { token: cluster.tokens.sign(user.id, 300) })).toHaveProperty('expiresAt');
    const expiredOnKept: unknown[] = [];
    kept.on('auth:expired', (m) => expiredOnKept.push(m));

    expect(await stale.notice).toEqual({ reason: 'expired' });
    expect(await stale.gone).toBe('io server disconnect');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(kept.connected).toBe(true);
    expect(expiredOnKept).toEqual([]);

    // A treat paid through node A reaches the refreshed socket on node B, and only it.
    const received = nextEvent(kept, 'order:received', () => true, 15_000);
    const treat = await api(a, cluster.tokens.sign(friend.id)).post(
      '/api/orders',
      { recipientId: user.id, venueId: venue.id, paymentMethod: 'STRIPE', amountCents: 600 },
      { 'Idempotency-Key': `expiry-treat-${Date.now()}` },
    );
    expect(treat.status).toBe(201);
    expect((await api(a).post(`/api/dev/payments/${treat.body.payment.paymentIntentId}/succeed`)).status).toBe(200);
    expect((await received).order.id).toBe(treat.body.order.id);
    expect(stale.socket.connected).toBe(false);
    kept.disconnect();
  });

  it('a stranger may not treat someone for any reason, and every reason reads the same: blocked either way, away, not open, hidden', async () => {
    const make = async (name: string) => {
      const u = await cluster.db.prisma.user.create({ data: { displayName: name, email: uniqueEmail(name.toLowerCase()) } });
      return { id: u.id, token: cluster.tokens.sign(u.id) };
    };
    const here = { venueId: venue.id, lat: venue.latitude, lng: venue.longitude };
    const buyer = await make('Buyer');
    const buyerPhone = await cluster.connect(a, buyer.token);
    await emitOk(buyerPhone, ClientEvent.CheckIn, here);
    /** A stranger checked in at the venue through node B, in the state the case needs. */
    const stranger = async (name: string, stay: Record<string, unknown> | null) => {
      const s = await make(name);
      if (stay) await emitOk(await cluster.connect(b, s.token), ClientEvent.CheckIn, { ...here, ...stay });
      return s;
    };
    const open = await stranger('Open', { wantsToReceive: true });
    const blockedMe = await stranger('BlockedMe', { wantsToReceive: true });
    await cluster.db.prisma.block.create({ data: { blockerId: blockedMe.id, blockedId: buyer.id } });
    const iBlocked = await stranger('IBlocked', { wantsToReceive: true });
    await cluster.db.prisma.block.create({ data: { blockerId: buyer.id, blockedId: iBlocked.id } });
    const away = await stranger('Away', null);
    const notOpen = await stranger('NotOpen', { wantsToReceive: false });
    const hidden = await stranger('Hidden', { wantsToReceive: true, visible: false });

    const treat = (to: string) =>
      api(b, buyer.token).post(
        '/api/orders',
        { recipientId: to, venueId: venue.id, paymentMethod: 'STRIPE', amountCents: 500 },
        { 'Idempotency-Key': `stranger-${to}-${Date.now()}` },
      );
    const before = await cluster.db.prisma.order.count({ where: { buyerId: buyer.id } });
    const answers = [];
    for (const who of [blockedMe, iBlocked, away, notOpen, hidden]) {
      const res = await treat(who.id);
      answers.push({ status: res.status, body: res.body as unknown });
    }
    expect(answers[0]).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    for (const a2 of answers) expect(a2).toEqual(answers[0]);
    expect(await cluster.db.prisma.order.count({ where: { buyerId: buyer.id } })).toBe(before);
    // The same buyer may treat a stranger who is there, visible and open: the refusals above were the reasons.
    expect((await treat(open.id)).status).toBe(201);
    buyerPhone.disconnect();
  });
});
