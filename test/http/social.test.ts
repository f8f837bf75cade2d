import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionResponse } from '../../protocol/http/auth';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/test-server';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({}, { label: 'social' });
});
afterAll(() => ts?.close());

const people = (...names: string[]) => Promise.all(names.map((n) => signIn(ts, uniqueEmail(n), n)));
const as = (s: SessionResponse) => api(ts, s.accessToken);
const auditCount = (userId: string, action: string) => ts.server.ctx.db.prisma.auditLog.count({ where: { userId, action } });

describe('friendships', () => {
  it('request → accept → listed on both sides → remove', async () => {
    const [ann, bob] = await people('ann', 'bob');
    const req = await as(ann!).post('/api/friends/requests', { userId: bob!.user.id });
    expect(req.status).toBe(201);
    expect(req.body).toEqual({ userId: bob!.user.id, state: 'outgoing' });
    expect((await as(ann!).get('/api/friends')).body.outgoing.map((u: { id: string }) => u.id)).toEqual([bob!.user.id]);
    expect((await as(bob!).get('/api/friends')).body.incoming.map((u: { id: string }) => u.id)).toEqual([ann!.user.id]);

    const acc = await as(bob!).post(`/api/friends/requests/${ann!.user.id}/accept`);
    expect(acc.status).toBe(200);
    expect(acc.body.state).toBe('friends');
    const annView = (await as(ann!).get('/api/friends')).body;
    expect(annView.friends).toEqual([{ id: bob!.user.id, displayName: 'bob', profileImageUrl: null, since: expect.any(String) }]);
    expect(annView.outgoing).toEqual([]);
    expect((await as(bob!).get('/api/friends')).body.friends.map((u: { id: string }) => u.id)).toEqual([ann!.user.id]);

    expect((await as(bob!).delete(`/api/friends/${ann!.user.id}`)).status).toBe(204);
    expect((await as(ann!).get('/api/friends')).body.friends).toEqual([]);
    expect(await auditCount(ann!.user.id, 'friendship.requested')).toBe(1);
    expect(await auditCount(bob!.user.id, 'friendship.accepted')).toBe(1);
    expect(await auditCount(bob!.user.id, 'friendship.removed')).toBe(1);
  });

  it('a request back to someone who already asked accepts theirs', async () => {
    const [cat, dan] = await people('cat', 'dan');
    await as(cat!).post('/api/friends/requests', { userId: dan!.user.id });
    const back = await as(dan!).post('/api/friends/requests', { userId: cat!.user.id });
    expect(back.status).toBe(200);
    expect(back.body.state).toBe('friends');
  });

  it('only the addressee can accept; the requester cannot accept their own request', async () => {
    const [eve, fay, gus] = await people('eve', 'fay', 'gus');
    await as(eve!).post('/api/friends/requests', { userId: fay!.user.id });
    expect((await as(eve!).post(`/api/friends/requests/${fay!.user.id}/accept`)).status).toBe(404);
    expect((await as(gus!).post(`/api/friends/requests/${eve!.user.id}/accept`)).status).toBe(404);
    expect((await as(gus!).delete(`/api/friends/${eve!.user.id}`)).status).toBe(404);
    expect((await as(fay!).get('/api/friends')).body.incoming).toHaveLength(1);
  });

  it('refuses self, unknown users, malformed ids and missing tokens', async () => {
    const [hal] = await people('hal');
    expect((await as(hal!).post('/api/friends/requests', { userId: hal!.user.id })).status).toBe(400);
    expect((await as(hal!).post('/api/friends/requests', { userId: randomUUID() })).status).toBe(404);
    const bad = await as(hal!).post('/api/friends/requests', { userId: 'not valid!' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues[0].path).toEqual(['userId']);
    expect((await api(ts).get('/api/friends')).status).toBe(401);
    expect((await api(ts, ts.server.ctx.tokens.sign(hal!.user.id, -1)).get('/api/friends')).status).toBe(401);
  });
});

describe('blocks', () => {
  it('blocking ends the friendship, hides the blocker, and can be undone', async () => {
    const [ivy, jon] = await people('ivy', 'jon');
    await as(ivy!).post('/api/friends/requests', { userId: jon!.user.id });
    await as(jon!).post(`/api/friends/requests/${ivy!.user.id}/accept`);
    expect((await as(ivy!).post('/api/blocks', { userId: jon!.user.id })).status).toBe(204);
    expect((await as(ivy!).get('/api/friends')).body.friends).toEqual([]);
    expect((await as(jon!).get('/api/friends')).body.friends).toEqual([]);
    // The blocked person cannot tell they were blocked: the blocker just looks absent.
    const retry = await as(jon!).post('/api/friends/requests', { userId: ivy!.user.id });
    expect(retry.status).toBe(404);
    expect((await as(ivy!).get('/api/blocks')).body.blocked.map((b: { id: string }) => b.id)).toEqual([jon!.user.id]);
    expect((await as(jon!).get('/api/blocks')).body.blocked).toEqual([]);

    expect((await as(jon!).delete(`/api/blocks/${ivy!.user.id}`)).status).toBe(404);
    expect((await as(ivy!).delete(`/api/blocks/${jon!.user.id}`)).status).toBe(204);
    expect((await as(jon!).post('/api/friends/requests', { userId: ivy!.user.id })).status).toBe(201);
    expect(await auditCount(ivy!.user.id, 'block.created')).toBe(1);
    expect(await auditCount(ivy!.user.id, 'block.removed')).toBe(1);
  });

  it('refuses blocking yourself, unknown users and malformed bodies', async () => {
    const [kim] = await people('kim');
    expect((await as(kim!).post('/api/blocks', { userId: kim!.user.id })).status).toBe(400);
    expect((await as(kim!).post('/api/blocks', { userId: randomUUID() })).status).toBe(404);
    expect((await as(kim!).post('/api/blocks', { user: 'x' })).status).toBe(400);
    expect((await api(ts).post('/api/blocks', { userId: kim!.user.id })).status).toBe(401);
  });
});
