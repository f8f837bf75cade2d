import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent, type PersonAtVenue } from '../../protocol/events';
import { MAX_PEOPLE_PER_PAGE, type VenuePeopleResponse } from '../../protocol/http/people';
import { emitOk, waitUntil } from '../helpers/socket';
import { startTestServer, type TestClient, type TestServer } from '../helpers/test-server';
import { createUsers, demoVenues, makeFriends, type TestUser } from '../helpers/users';
import { at, peopleAt } from './people-helpers';

let ts: TestServer;
let venues: Awaited<ReturnType<typeof demoVenues>>;

beforeAll(async () => {
  ts = await startTestServer({ COUNT_COALESCE_MS: '100', PEOPLE_RESYNC_INTERVAL_MS: '600' }, { label: 'people-paging' });
  venues = await demoVenues(ts.server.ctx);
}, 60_000);
afterAll(async () => ts?.close());

/**
 * A phone that reads its list in pages while following `venue:people`, as an app should: a page's
 * entry about someone never overrides a message about them that arrived after the page was asked for
 * (the message is newer than the read).
 */
class PagedPhone {
  readonly people = new Map<string, PersonAtVenue>();
  private readonly heardAt = new Map<string, number>();
  private clock = 0;

  constructor(
    socket: TestClient,
    private readonly venueId: string,
  ) {
    socket.on('venue:people', (m) => {
      if (m.venueId !== venueId) return;
      for (const c of m.changes) {
        const id = c.type === 'upsert' ? c.person.userId : c.userId;
        this.heardAt.set(id, ++this.clock);
        if (c.type === 'upsert') this.people.set(id, c.person);
        else this.people.delete(id);
      }
    });
  }

  async page(user: TestUser, cursor: string | null): Promise<VenuePeopleResponse> {
    const askedAt = this.clock;
    const res = await peopleAt(
      ts,
      user.token,
      this.venueId,
      `?limit=${MAX_PEOPLE_PER_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const page = res.body as VenuePeopleResponse;
    for (const p of page.people) if ((this.heardAt.get(p.userId) ?? 0) <= askedAt) this.people.set(p.userId, p);
    return page;
  }
}

async function checkInPhone(user: TestUser, venue: (typeof venues)[number]): Promise<TestClient> {
  const socket = await ts.connect(user.token);
  await emitOk(socket, ClientEvent.CheckIn, { venueId: venue.id, ...at(venue) });
  return socket;
}

describe('GET /api/venues/:id/people in pages', () => {
  it('pages 120 people 50 at a time, friends first, while people arrive and leave, and the phone ends on the exact list', async () => {
    const venue = venues[3]!;
    const [me] = await createUsers(ts.server.ctx, 1, 'pager');
    const stayers = await createUsers(ts.server.ctx, 100, 'stayer');
    const leavers = await createUsers(ts.server.ctx, 20, 'leaver');
    const arrivals = await createUsers(ts.server.ctx, 20, 'arrival');
    const friends = new Set(stayers.filter((_, i) => i % 10 === 7).map((u) => u.id));
    for (const id of friends) await makeFriends(ts.server.ctx, me!.id, id);
    const now = ts.server.ctx.now();
    for (const u of stayers) await ts.server.ctx.presence.checkIn({ userId: u.id, venueId: venue.id, ...at(venue), now });
    const leaving = await Promise.all(leavers.map((u) => checkInPhone(u, venue)));

    const mySocket = await ts.connect(me!.token);
    const phone = new PagedPhone(mySocket, venue.id);
    await emitOk(mySocket, ClientEvent.CheckIn, { venueId: venue.id, ...at(venue) });

    const pages: VenuePeopleResponse[] = [];
    let cursor: string | null = null;
    let round = 0;
    do {
      const page: VenuePeopleResponse = await phone.page(me!, cursor);
      pages.push(page);
      cursor = page.nextCursor ?? null;
      // Between pages (and without waiting for the messages), some leave and some arrive.
      const from = round * 7;
      await Promise.all(leaving.slice(from, from + 7).map((s) => emitOk(s, ClientEvent.Leave, {})));
      await Promise.all(arrivals.slice(from, from + 7).map((u) => checkInPhone(u, venue)));
      round++;
    } while (cursor);

    for (const p of pages) expect(p.people.length).toBeLessThanOrEqual(MAX_PEOPLE_PER_PAGE);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    const listed = pages.flatMap((p) => p.people.map((x) => x.userId));
    // No one twice; everyone who stayed throughout exactly once; friends (only) at the front.
    expect(new Set(listed).size).toBe(listed.length);
    for (const s of stayers)
      expect(
        listed.filter((id) => id === s.id),
        s.displayName,
      ).toHaveLength(1);
    const first = pages[0]!.people;
    expect(first.slice(0, friends.size).every((p) => p.isFriend && friends.has(p.userId))).toBe(true);
    expect(first.slice(friends.size).some((p) => p.isFriend)).toBe(false);
    expect(listed.includes(me!.id)).toBe(false);

    // With every message applied, the phone shows exactly what a fresh full read shows.
    const exact = async () => ((await peopleAt(ts, me!.token, venue.id)).body as VenuePeopleResponse).people.map((p) => p.userId).sort();
    await waitUntil(async () => JSON.stringify([...phone.people.keys()].sort()) === JSON.stringify(await exact()), 5_000, 100);
    const final = await exact();
    const moved = Math.min(round * 7, 20);
    expect(final).toHaveLength(stayers.length + (leavers.length - moved) + moved);
  });

  it('refuses a made-up cursor and a page over 50 with 400', async () => {
    const venue = venues[4]!;
    const [me] = await createUsers(ts.server.ctx, 1, 'badcursor');
    await checkInPhone(me!, venue);
    for (const query of ['?cursor=not-a-cursor', `?cursor=${Buffer.from('[2,"x","y"]').toString('base64url')}`, '?limit=51', '?limit=0']) {
      const res = await peopleAt(ts, me!.token, venue.id, query);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION');
    }
  });
});
