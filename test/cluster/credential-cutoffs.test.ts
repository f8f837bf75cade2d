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
});
