import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import type { VenuePeopleResponse } from '../../protocol/http/people';
import { emitOk, waitUntil } from '../helpers/socket';
import { startTestServer, type TestClient, type TestServer } from '../helpers/test-server';
import { createUser, demoVenues } from '../helpers/users';
import { arrive, at, peopleAt } from './people-helpers';

const WINDOW_MS = 250;
const CROWD = 500;
let ts: TestServer;

beforeAll(async () => {
  ts = await startTestServer({ COUNT_COALESCE_MS: String(WINDOW_MS) }, { label: 'people-crowd' });
});
afterAll(async () => ts?.close(), 60_000);

describe('a busy club', () => {
  it(`${CROWD} people arriving at once reach a phone already there in a few coalesced messages that end on the exact list`, async () => {
    const venue = (await demoVenues(ts.server.ctx))[0]!;
    const prisma = ts.server.ctx.db.prisma;
    const stamp = Date.now().toString(36);
    await prisma.user.createMany({
      data: Array.from({ length: CROWD }, (_, i) => ({ email: `crowd-${stamp}-${i}@test.treatme.dev`, displayName: `Guest ${i}` })),
    });
    const crowd = (await prisma.user.findMany({ where: { email: { startsWith: `crowd-${stamp}-` } }, select: { id: true } })).map((u) => ({
      id: u.id,
      token: ts.server.ctx.tokens.sign(u.id),
    }));
    const phones: TestClient[] = [];
    for (let i = 0; i < crowd.length; i += 50) phones.push(...(await Promise.all(crowd.slice(i, i + 50).map((u) => ts.connect(u.token)))));

    const me = await createUser(ts.server.ctx, 'Regular');
    const { socket, list } = await arrive(ts, me, venue);
    // When each message reaches the phone: the bound is about what a phone receives.
    const received: number[] = [];
    socket.on('venue:people', () => received.push(Date.now()));

    const start = Date.now();
    await Promise.all(
      phones.map((p, i) =>
        emitOk(p, ClientEvent.CheckIn, { venueId: venue.id, ...at(venue), wantsToReceive: i % 2 === 0, wantsToBuy: i % 3 === 0 }, 120_000),
      ),
    );
    await waitUntil(() => list.people.size === CROWD, 60_000);
    const elapsed = Date.now() - start;

    const messages = list.messages.length;
    expect(messages).toBeGreaterThan(0);
    // Leading edge + one per window at most, over the whole arrival.
    expect(messages).toBeLessThanOrEqual(Math.ceil(elapsed / WINDOW_MS) + 1);
    // Loopback delivery jitter is a few ms; the server spaces its sends a full window apart.
    for (let i = 1; i < received.length; i++) expect(received[i]! - received[i - 1]!).toBeGreaterThanOrEqual(WINDOW_MS - 50);
    expect(list.messages.flatMap((m) => m.changes).length).toBeLessThanOrEqual(CROWD * 2);

    const read = (await peopleAt(ts, me.token, venue.id)).body as VenuePeopleResponse;
    expect(read.people).toHaveLength(CROWD);
    expect(list.ids()).toEqual(read.people.map((p) => p.userId).sort());
    for (const p of read.people) expect(list.people.get(p.userId)).toEqual(p);
    for (const p of phones) p.disconnect();
  }, 300_000);
});
