import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import type { VenuePeopleResponse } from '../../protocol/http/people';
import { isolationIds } from '../helpers/isolation';
import { emitOk, waitUntil } from '../helpers/socket';
import { startTestServer, type TestServer } from '../helpers/test-server';
import { createUser, demoVenues, makeFriends } from '../helpers/users';
import { arrive, peopleAt } from './people-helpers';

let nodeA: TestServer;
let nodeB: TestServer;
const settings = { COUNT_COALESCE_MS: '100', SWEEP_INTERVAL_MS: '300', PEOPLE_RESYNC_INTERVAL_MS: '600' };

beforeAll(async () => {
  const ids = isolationIds('people-2nodes');
  // One after the other: the first migrates and seeds, the second finds it done.
  nodeA = await startTestServer(settings, { ids });
  nodeB = await startTestServer(settings, { ids });
}, 120_000);
afterAll(async () => {
  await nodeA?.close();
  await nodeB?.close();
}, 60_000);

describe('two people at one venue, on two nodes', () => {
  it('see each other arrive, change flags, go invisible and leave, live', async () => {
    const venue = (await demoVenues(nodeA.server.ctx))[2]!;
    const [ann, bob, cy] = await Promise.all(['Ann', 'Bob', 'Cy'].map((n) => createUser(nodeA.server.ctx, n)));
    await makeFriends(nodeA.server.ctx, ann!.id, bob!.id);
    const a = await arrive(nodeA, ann!, venue);
    const b = await arrive(nodeB, bob!, venue, { wantsToBuy: true });

    await waitUntil(() => a.list.people.has(bob!.id), 3_000);
    expect(a.list.people.get(bob!.id)).toMatchObject({ displayName: 'Bob', wantsToBuy: true, isFriend: true });
    expect(b.list.people.get(ann!.id)).toMatchObject({ displayName: 'Ann', isFriend: true });

    await emitOk(a.socket, ClientEvent.PresenceUpdate, { wantsToReceive: true });
    await waitUntil(() => b.list.people.get(ann!.id)?.wantsToReceive === true, 3_000);

    // A third person on node B: node A's phone hears of them too, once.
    const c = await arrive(nodeB, cy!, venue);
    await waitUntil(() => a.list.people.has(cy!.id) && c.list.people.size === 2, 3_000);
    expect(a.list.changesAbout(cy!.id)).toHaveLength(1);

    await emitOk(b.socket, ClientEvent.PresenceUpdate, { visible: false });
    await waitUntil(() => !a.list.people.has(bob!.id) && !c.list.people.has(bob!.id), 3_000);
    const readOnA = (await peopleAt(nodeA, ann!.token, venue.id)).body as VenuePeopleResponse;
    expect(readOnA.people.map((p) => p.displayName)).toEqual(['Cy']);

    await emitOk(a.socket, ClientEvent.Leave, {});
    await waitUntil(() => !b.list.people.has(ann!.id) && !c.list.people.has(ann!.id), 3_000);
    const readOnB = (await peopleAt(nodeB, bob!.token, venue.id)).body as VenuePeopleResponse;
    expect(readOnB.people.map((p) => p.displayName)).toEqual(['Cy']);
    expect((await peopleAt(nodeB, ann!.token, venue.id)).status).toBe(403);
  });
});
