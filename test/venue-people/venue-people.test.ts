import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import type { VenuePeopleResponse } from '../../protocol/http/people';
import { api } from '../helpers/auth';
import { emitOk, waitUntil } from '../helpers/socket';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { createUser, demoVenues, makeFriends, type TestUser } from '../helpers/users';
import { arrive, at, peopleAt } from './people-helpers';

let ts: TestServer;
let venues: Awaited<ReturnType<typeof demoVenues>>;
const names = (list: VenuePeopleResponse) => list.people.map((p) => p.displayName);
const users = (...n: string[]) => Promise.all(n.map((name) => createUser(ts.server.ctx, name)));

beforeAll(async () => {
  ts = await startTestServer(
    { COUNT_COALESCE_MS: '100', SWEEP_INTERVAL_MS: '300', PEOPLE_RESYNC_INTERVAL_MS: '600', PRESENCE_GRACE_SECONDS: '1' },
    { label: 'venue-people' },
  );
  venues = await demoVenues(ts.server.ctx);
});
afterAll(async () => ts?.close());

async function list(user: TestUser, venueId: string, query = ''): Promise<VenuePeopleResponse> {
  const res = await peopleAt(ts, user.token, venueId, query);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as VenuePeopleResponse;
}

describe('GET /api/venues/:id/people', () => {
  it('lists the visible people here with their photo and flags, friends first, never the caller', async () => {
    const venue = venues[0]!;
    const [me, zoe, amy, bob] = await users('Me', 'Zoe', 'Amy', 'Bob');
    await makeFriends(ts.server.ctx, zoe!.id, me!.id);
    await ts.server.ctx.db.prisma.user.update({ where: { id: amy!.id }, data: { profileImageUrl: 'https://img.example/amy.jpg' } });
    await arrive(ts, me!, venue);
    await arrive(ts, zoe!, venue, { wantsToBuy: true });
    await arrive(ts, amy!, venue, { wantsToReceive: true });
    await arrive(ts, bob!, venue);

    const mine = await list(me!, venue.id);
    expect(mine.venueId).toBe(venue.id);
    expect(mine.people).toEqual([
      { userId: zoe!.id, displayName: 'Zoe', profileImageUrl: null, wantsToBuy: true, wantsToReceive: false, isFriend: true },
      {
        userId: amy!.id,
        displayName: 'Amy',
        profileImageUrl: 'https://img.example/amy.jpg',
        wantsToBuy: false,
        wantsToReceive: true,
        isFriend: false,
      },
      { userId: bob!.id, displayName: 'Bob', profileImageUrl: null, wantsToBuy: false, wantsToReceive: false, isFriend: false },
    ]);
    expect(names(await list(me!, venue.id, '?wants=receive'))).toEqual(['Amy']);
    expect(names(await list(me!, venue.id, '?wants=buy'))).toEqual(['Zoe']);
    expect(names(await list(bob!, venue.id))).toEqual(['Amy', 'Me', 'Zoe']);
    expect((await peopleAt(ts, me!.token, venue.id, '?wants=everyone')).status).toBe(400);
  });

  it('refuses anyone not checked in at that venue, the venue’s own staff included, unless staff checked in as a guest', async () => {
    const [here, there, nowhere] = await users('Here', 'There', 'Nowhere');
    const venue = venues[1]!;
    await arrive(ts, here!, venue);
    await arrive(ts, there!, venues[2]!);

    const elsewhere = await peopleAt(ts, there!.token, venue.id);
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.body.error.code).toBe('NOT_CHECKED_IN');
    expect((await peopleAt(ts, nowhere!.token, venue.id)).body.error.code).toBe('NOT_CHECKED_IN');
    expect((await api(ts).get(`/api/venues/${venue.id}/people`)).status).toBe(401);
    expect((await peopleAt(ts, here!.token, 'no-such-venue')).status).toBe(404);

    const staffRow = await ts.server.ctx.db.prisma.venueStaff.findFirstOrThrow({ where: { venueId: venue.id } });
    const staff = { id: staffRow.userId, token: ts.server.ctx.tokens.sign(staffRow.userId), displayName: 'staff' };
    const behindTheBar = await peopleAt(ts, staff.token, venue.id);
    expect(behindTheBar.status).toBe(403);
    expect(behindTheBar.body.error.code).toBe('FORBIDDEN');
    await arrive(ts, staff, venue);
    expect(names(await list(staff, venue.id))).toContain('Here');
  });
});

describe('the live list (venue:people)', () => {
  it('follows arrivals, flag changes, ghost mode and moves, and agrees with the read at every step', async () => {
    const [v, w] = [venues[3]!, venues[4]!];
    const [ann, ben, cat] = await users('Ann', 'Ben', 'Cat');
    const a = await arrive(ts, ann!, v);
    const c = await arrive(ts, cat!, w);
    const b = await arrive(ts, ben!, v);
    const agreed = async () => expect(a.list.ids()).toEqual((await list(ann!, v.id)).people.map((p) => p.userId).sort());

    await waitUntil(() => a.list.people.has(ben!.id));
    expect(a.list.people.get(ben!.id)).toMatchObject({ displayName: 'Ben', wantsToReceive: false, isFriend: false });
    expect(b.list.ids()).toEqual([ann!.id]);
    // Nobody hears about themself.
    expect(b.list.changesAbout(ben!.id)).toEqual([]);

    await emitOk(b.socket, ClientEvent.PresenceUpdate, { wantsToReceive: true });
    await waitUntil(() => a.list.people.get(ben!.id)?.wantsToReceive === true);
    await agreed();

    await emitOk(b.socket, ClientEvent.PresenceUpdate, { visible: false });
    await waitUntil(() => !a.list.people.has(ben!.id));
    await agreed();
    // Ghost mode hides, it does not uncount.
    expect((await ts.server.ctx.presence.getCounts([v.id])).get(v.id)!.count).toBe(2);
    await emitOk(b.socket, ClientEvent.PresenceUpdate, { visible: true });
    await waitUntil(() => a.list.people.has(ben!.id));

    await emitOk(b.socket, ClientEvent.CheckIn, { venueId: w.id, ...at(w) });
    await waitUntil(() => !a.list.people.has(ben!.id) && c.list.people.has(ben!.id));
    // A check-in elsewhere starts a new stay: flags not sent again start over.
    expect(c.list.people.get(ben!.id)).toMatchObject({ wantsToReceive: false });
    await agreed();
    expect(names(await list(cat!, w.id))).toEqual(['Ben']);

    await emitOk(b.socket, ClientEvent.Leave, {});
    await waitUntil(() => !c.list.people.has(ben!.id));
    // Ann, who moved nowhere, never hears about Ben at the other venue.
    expect(a.list.messages.every((m) => m.venueId === v.id)).toBe(true);
  });

  it('marks friends for the friend only', async () => {
    const venue = venues[5]!;
    const [fay, gil, hal] = await users('Fay', 'Gil', 'Hal');
    await makeFriends(ts.server.ctx, fay!.id, hal!.id);
    const f = await arrive(ts, fay!, venue);
    const g = await arrive(ts, gil!, venue);
    await arrive(ts, hal!, venue, { wantsToBuy: true });
    await waitUntil(() => f.list.people.has(hal!.id) && g.list.people.has(hal!.id));
    expect(f.list.people.get(hal!.id)!.isFriend).toBe(true);
    expect(g.list.people.get(hal!.id)!.isFriend).toBe(false);
  });

  it('a block hides each from the other both ways, at once and in every later read and message; unblocking shows them again', async () => {
    const venue = venues[6]!;
    const [ivy, jay, kit, lou] = await users('Ivy', 'Jay', 'Kit', 'Lou');
    const i = await arrive(ts, ivy!, venue);
    const j = await arrive(ts, jay!, venue);
    const k = await arrive(ts, kit!, venue);
    await waitUntil(() => i.list.people.has(jay!.id) && j.list.people.has(ivy!.id));

    expect((await api(ts, ivy!.token).post('/api/blocks', { userId: jay!.id })).status).toBe(204);
    await waitUntil(() => !i.list.people.has(jay!.id) && !j.list.people.has(ivy!.id));
    expect(names(await list(ivy!, venue.id))).toEqual(['Kit']);
    expect(names(await list(jay!, venue.id))).toEqual(['Kit']);

    // Later changes of either never reach the other; everyone else still sees both.
    await emitOk(j.socket, ClientEvent.PresenceUpdate, { wantsToReceive: true });
    await arrive(ts, lou!, venue);
    await waitUntil(() => k.list.people.get(jay!.id)?.wantsToReceive === true && i.list.people.has(lou!.id) && j.list.people.has(lou!.id));
    expect(i.list.people.has(jay!.id)).toBe(false);
    expect(i.list.changesAbout(jay!.id).filter((c) => c.type === 'upsert')).toHaveLength(1); // the arrival, before the block

    expect((await api(ts, ivy!.token).delete(`/api/blocks/${jay!.id}`)).status).toBe(204);
    await waitUntil(() => i.list.people.has(jay!.id) && j.list.people.has(ivy!.id));
    expect(i.list.people.get(jay!.id)).toMatchObject({ wantsToReceive: true, isFriend: false });
  });

  it('drops a person whose stay expired, from the read and live', async () => {
    const venue = venues[7]!;
    const [max, ned] = await users('Max', 'Ned');
    const m = await arrive(ts, max!, venue);
    const n = await arrive(ts, ned!, venue);
    await waitUntil(() => m.list.people.has(ned!.id));
    // The phone goes away without a leave: the grace period (1 s here) ends the stay with no event at all.
    n.socket.disconnect();
    await waitUntil(() => !m.list.people.has(ned!.id), 8_000);
    expect(names(await list(max!, venue.id))).toEqual([]);
    expect(m.list.changesAbout(ned!.id).at(-1)).toEqual({ type: 'remove', userId: ned!.id });
  });
});

describe('reporting a user', () => {
  it('writes an audit row with the reason, and refuses yourself, strangers to the system and empty reasons', async () => {
    const [oli, pam] = await users('Oli', 'Pam');
    const res = await api(ts, oli!.token).post(`/api/users/${pam!.id}/report`, { reason: 'kept following me', venueId: venues[0]!.id });
    expect(res.status).toBe(202);
    const rows = await ts.server.ctx.db.prisma.auditLog.findMany({ where: { userId: oli!.id, action: 'user.reported' } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      resourceType: 'user',
      resourceId: pam!.id,
      changes: { reason: 'kept following me', venueId: venues[0]!.id },
    });

    expect((await api(ts, oli!.token).post(`/api/users/${oli!.id}/report`, { reason: 'x' })).status).toBe(400);
    expect((await api(ts, oli!.token).post('/api/users/nobody/report', { reason: 'x' })).status).toBe(404);
    expect((await api(ts, oli!.token).post(`/api/users/${pam!.id}/report`, { reason: '   ' })).status).toBe(400);
    expect((await api(ts).post(`/api/users/${pam!.id}/report`, { reason: 'x' })).status).toBe(401);
    expect(await ts.server.ctx.db.prisma.auditLog.count({ where: { userId: oli!.id, action: 'user.reported' } })).toBe(1);
  });
});
