import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countPgQueries } from '../../bench/lib/pg-query-counter';
import { ClientEvent } from '../../protocol/events';
import { createUsers, demoVenues, makeFriends, type TestUser } from '../helpers/users';
import { emitOk, nextEvent, waitUntil } from '../helpers/socket';
import { startTestServer, type StoreChoice, type TestServer } from '../helpers/test-server';
import { arrive, at, type PhoneList } from './people-helpers';

const queries = countPgQueries({ keepTexts: true });

// Both deployments batch the same way: PostgreSQL with DynamoDB (cluster), PGlite with the memory store (embedded).
describe.each(['real', 'embedded'] as StoreChoice[])('relations for people lists and friend notifications (%s stores)', (stores) => {
  let ts: TestServer;
  beforeAll(async () => {
    ts = await startTestServer(
      // One flush for the whole burst below; no safety-net resync reading the lists meanwhile.
      { PRESENCE_JOURNAL_FLUSH_MS: '2000', PEOPLE_RESYNC_INTERVAL_MS: '3600000', PRESENCE_JOURNAL_REBUILD_INTERVAL_MS: '0' },
      { label: 'relbatch', stores },
    );
  }, 120_000);
  afterAll(async () => ts?.close());

  it('a flush of 30 arrivals at 3 venues reads relations twice in all: once for the flush, once for the tick of the 3 venues', async () => {
    const venues = (await demoVenues(ts.server.ctx)).slice(0, 3);
    const viewers: { user: TestUser; list: PhoneList; venue: (typeof venues)[number] }[] = [];
    const viewerUsers = await createUsers(ts.server.ctx, 6, `viewer-${stores}`);
    for (let i = 0; i < viewerUsers.length; i++) {
      const venue = venues[i % 3]!;
      viewers.push({ user: viewerUsers[i]!, venue, ...(await arrive(ts, viewerUsers[i]!, venue)) });
    }
    const arrivals = await createUsers(ts.server.ctx, 30, `arrival-${stores}`);
    // Viewer i is a friend of arrival i (at viewer i's venue): their message must say so, and only theirs.
    for (let i = 0; i < viewers.length; i++) await makeFriends(ts.server.ctx, viewers[i]!.user.id, arrivals[i]!.id);
    const friendOfArrival0 = await ts.connect(viewerUsers[0]!.token);
    const phones = await Promise.all(arrivals.map((u) => ts.connect(u.token)));
    // The viewers' own check-ins are written and fanned out before counting starts.
    await waitUntil(async () => (await ts.server.ctx.db.prisma.presence.count()) === viewers.length, 10_000, 100);
    await new Promise((r) => setTimeout(r, 300));
    const told = nextEvent(friendOfArrival0, 'friend:presence', (m) => m.userId === arrivals[0]!.id, 10_000);

    queries.reset();
    await Promise.all(phones.map((p, i) => emitOk(p, ClientEvent.CheckIn, { venueId: venues[i % 3]!.id, ...at(venues[i % 3]!) })));
    await waitUntil(() => viewers.every((v) => v.list.ids().length === 2 + 10 - 1), 10_000, 50);
    expect((await told).venueId).toBe(venues[0]!.id);

    const relationReads = queries.texts.filter((t) => /\bfriendships\b/.test(t));
    expect(relationReads).toHaveLength(2);
    // Profiles ride with the flush's read; the journal is one statement: nothing per change.
    expect(queries.count).toBe(3);
    for (let i = 0; i < viewers.length; i++) {
      const { list } = viewers[i]!;
      for (const a of arrivals.filter((_, k) => k % 3 === i % 3)) expect(list.people.get(a.id)?.isFriend).toBe(a.id === arrivals[i]!.id);
    }
    for (const p of phones) p.disconnect();
  }, 60_000);
});
