import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionResponse } from '../../protocol/http/auth';
import type { LogPushSender } from '../../server/devices/push-sender';
import { api, signIn, uniqueEmail } from '../helpers/auth';
import { startTestServer, type TestServer } from '../helpers/test-server';

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({}, { label: 'groups' });
});
afterAll(() => ts?.close());

const people = (...names: string[]) => Promise.all(names.map((n) => signIn(ts, uniqueEmail(n), n)));
const as = (s: SessionResponse) => api(ts, s.accessToken);

async function groupWith(owner: SessionResponse, ...members: SessionResponse[]) {
  const g = (await as(owner).post('/api/groups', { name: 'Friday crew' })).body.group as { id: string };
  for (const m of members) {
    const inv = await as(owner).post(`/api/groups/${g.id}/invites`, { userId: m.user.id });
    expect(inv.status).toBe(201);
    expect((await as(m).post(`/api/groups/${g.id}/join`, { inviteCode: inv.body.inviteCode })).status).toBe(200);
  }
  return g.id;
}

describe('groups', () => {
  it('create → invite → join → members → set venue → leave', async () => {
    const [ola, pam] = await people('ola', 'pam');
    const created = await as(ola!).post('/api/groups', { name: '  Friday crew ' });
    expect(created.status).toBe(201);
    const gid = created.body.group.id;
    expect(created.body.group).toMatchObject({ name: 'Friday crew', currentVenue: null, members: [{ id: ola!.user.id, isOwner: true }] });

    await as(pam!).post('/api/devices', { token: `tok-${randomUUID()}`, platform: 'IOS' });
    const inv = await as(ola!).post(`/api/groups/${gid}/invites`, { userId: pam!.user.id });
    expect(inv.status).toBe(201);
    const pushed = (ts.server.services.push as LogPushSender).recent.filter((p) => p.userId === pam!.user.id);
    expect(pushed.map((p) => p.notification.data?.inviteCode)).toEqual([inv.body.inviteCode]);

    const joined = await as(pam!).post(`/api/groups/${gid}/join`, { inviteCode: inv.body.inviteCode });
    expect(joined.status).toBe(200);
    expect(joined.body.group.members.map((m: { id: string }) => m.id)).toEqual([ola!.user.id, pam!.user.id]);
    expect((await as(pam!).get('/api/groups')).body.groups.map((g: { id: string }) => g.id)).toEqual([gid]);
    const members = await as(pam!).get(`/api/groups/${gid}/members`);
    expect(members.body.members.map((m: { id: string; isOwner: boolean }) => [m.id, m.isOwner])).toEqual([
      [ola!.user.id, true],
      [pam!.user.id, false],
    ]);

    const venue = await ts.server.ctx.db.prisma.venue.findFirstOrThrow();
    const set = await as(pam!).put(`/api/groups/${gid}/venue`, { venueId: venue.id });
    expect(set.status).toBe(200);
    expect(set.body.group.currentVenue).toMatchObject({ id: venue.id, name: venue.name });
    expect((await as(ola!).get(`/api/groups/${gid}`)).body.group.currentVenue.id).toBe(venue.id);
    expect((await as(ola!).put(`/api/groups/${gid}/venue`, { venueId: null })).body.group.currentVenue).toBeNull();

    // The owner leaves: ownership passes on; the last one out deletes the group.
    expect((await as(ola!).post(`/api/groups/${gid}/leave`)).body).toEqual({ deleted: false });
    expect((await as(pam!).get(`/api/groups/${gid}`)).body.group.members).toMatchObject([{ id: pam!.user.id, isOwner: true }]);
    expect((await as(pam!).post(`/api/groups/${gid}/leave`)).body).toEqual({ deleted: true });
    expect(await ts.server.ctx.db.prisma.group.findUnique({ where: { id: gid } })).toBeNull();

    const actions = await ts.server.ctx.db.prisma.auditLog.findMany({
      where: { resourceType: 'group', resourceId: gid },
      orderBy: { createdAt: 'asc' },
    });
    expect(actions.map((a) => a.action)).toEqual([
      'group.created',
      'group.invited',
      'group.joined',
      'group.venue_set',
      'group.venue_set',
      'group.left',
      'group.deleted',
    ]);
  });

  it('keeps non-members out: 404 on read, invite, venue and leave', async () => {
    const [quin, rob, sal] = await people('quin', 'rob', 'sal');
    const gid = await groupWith(quin!, rob!);
    expect((await as(sal!).get(`/api/groups/${gid}`)).status).toBe(404);
    expect((await as(sal!).get(`/api/groups/${gid}/members`)).status).toBe(404);
    expect((await as(sal!).post(`/api/groups/${gid}/invites`, { userId: sal!.user.id })).status).toBe(404);
    expect((await as(sal!).put(`/api/groups/${gid}/venue`, { venueId: null })).status).toBe(404);
    expect((await as(sal!).post(`/api/groups/${gid}/leave`)).status).toBe(404);
    expect((await as(sal!).get('/api/groups')).body.groups).toEqual([]);
  });

  it('an invite works only for its invitee and its group', async () => {
    const [tia, uma, vic] = await people('tia', 'uma', 'vic');
    const gid = await groupWith(tia!);
    const other = await groupWith(tia!);
    const inv = (await as(tia!).post(`/api/groups/${gid}/invites`, { userId: uma!.user.id })).body.inviteCode;
    expect((await as(vic!).post(`/api/groups/${gid}/join`, { inviteCode: inv })).status).toBe(403);
    expect((await as(uma!).post(`/api/groups/${other}/join`, { inviteCode: inv })).status).toBe(403);
    const forged = `${inv.slice(0, -4)}AAAA`;
    expect((await as(uma!).post(`/api/groups/${gid}/join`, { inviteCode: forged })).status).toBe(403);
    // An access token is not an invite, even though both are JWTs from this server.
    expect((await as(uma!).post(`/api/groups/${gid}/join`, { inviteCode: uma!.accessToken })).status).toBe(403);
    expect((await as(uma!).post(`/api/groups/${gid}/join`, { inviteCode: inv })).status).toBe(200);
    expect((await as(tia!).post(`/api/groups/${gid}/invites`, { userId: uma!.user.id })).status).toBe(409);
  });

  it('an invite dies when its inviter leaves, and blocked users cannot be invited', async () => {
    const [wes, xia, yan, zed] = await people('wes', 'xia', 'yan', 'zed');
    const gid = await groupWith(wes!, xia!);
    const inv = (await as(xia!).post(`/api/groups/${gid}/invites`, { userId: yan!.user.id })).body.inviteCode;
    await as(xia!).post(`/api/groups/${gid}/leave`);
    expect((await as(yan!).post(`/api/groups/${gid}/join`, { inviteCode: inv })).status).toBe(403);
    await as(zed!).post('/api/blocks', { userId: wes!.user.id });
    expect((await as(wes!).post(`/api/groups/${gid}/invites`, { userId: zed!.user.id })).status).toBe(404);
  });

  it('validates bodies, ids and venues, and requires a token', async () => {
    const [abe] = await people('abe');
    const gid = await groupWith(abe!);
    expect((await as(abe!).post('/api/groups', { name: '' })).status).toBe(400);
    expect((await as(abe!).post('/api/groups', { name: 'x'.repeat(81) })).status).toBe(400);
    expect((await as(abe!).get('/api/groups/bad%20id')).status).toBe(400);
    expect((await as(abe!).put(`/api/groups/${gid}/venue`, { venueId: randomUUID() })).status).toBe(404);
    expect((await as(abe!).put(`/api/groups/${gid}/venue`, {})).status).toBe(400);
    expect((await as(abe!).post(`/api/groups/${gid}/join`, { inviteCode: 'short' })).status).toBe(400);
    expect((await as(abe!).post(`/api/groups/${gid}/invites`, { userId: abe!.user.id })).status).toBe(400);
    expect((await api(ts).post('/api/groups', { name: 'x' })).status).toBe(401);
    expect((await api(ts).get(`/api/groups/${gid}`)).status).toBe(401);
  });
});
