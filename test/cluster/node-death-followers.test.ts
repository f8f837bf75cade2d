import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientEvent } from '../../protocol/events';
import { NODE_DEATH_ENV, startCluster, type Cluster } from '../helpers/cluster';
import { collect, emitOk, waitUntil } from '../helpers/socket';
import type { TestClient } from '../helpers/test-server';
import { PhoneList, at, peopleAt } from '../venue-people/people-helpers';

let cluster: Cluster;

// As in node-death.test.ts: only the node lease can end the dead node's stays in time.
beforeAll(async () => {
  cluster = await startCluster(3, NODE_DEATH_ENV, 'deathfollow');
}, 120_000);
afterAll(async () => cluster?.close(), 60_000);

/**
 * Issue #14: the survivor that ends a dead node's stays does what a leave does for everyone who follows
 * them, not only the counts: the venue's people list drops them and their friends are told they left.
 * A guest who reconnected elsewhere first is neither dropped nor reported gone.
 */
describe('a node that dies, seen by the people who follow its guests', () => {
  it('its abandoned guest leaves the people list and friends hear it, within 15 s; the reconnected guest does not', async () => {
    const { prisma } = cluster.db;
    const venue = await prisma.venue.findFirstOrThrow({ orderBy: { slug: 'asc' } });
    const make = async (name: string) => {
      const u = await prisma.user.create({ data: { displayName: name, email: `${name}-${Date.now()}@test.treatme.dev` } });
      return { id: u.id, token: cluster.tokens.sign(u.id) };
    };
    const [pal, gone, back] = [await make('pal'), await make('gone'), await make('back')];
    for (const friend of [gone, back])
      await prisma.friendship.create({ data: { requesterId: pal.id, addresseeId: friend.id, status: 'ACCEPTED', acceptedAt: new Date() } });
    const [a, b, c] = cluster.nodes;

    // The pal is at the venue on node C, following its people list (which leaves the pal out) and friends.
    const palPhone = await cluster.connect(c!, pal.token);
    const list = new PhoneList(palPhone, venue.id);
    const heard = collect(palPhone, 'friend:presence');
    await emitOk(palPhone, ClientEvent.CheckIn, { venueId: venue.id, ...at(venue) });

    // Both friends are at the venue on node B, which is about to die.
    const phones: TestClient[] = [];
    for (const u of [gone, back]) {
      const p = await cluster.connect(b!, u.token);
      await emitOk(p, ClientEvent.CheckIn, { venueId: venue.id, ...at(venue) });
      phones.push(p);
    }
    const res = await peopleAt(c!, pal.token, venue.id);
    expect(res.status).toBe(200);
    list.load(res.body);
    await waitUntil(
      () => list.ids().length === 2 && [gone, back].every((u) => heard.some((m) => m.userId === u.id && m.venueId === venue.id)),
    ).catch((err: unknown) => {
      throw new Error(
        `${String(err)}: list ${JSON.stringify(list.ids())}, heard ${JSON.stringify(heard)}, ids ${JSON.stringify([pal, gone, back].map((u) => u.id))}`,
      );
    });
    const beat = setInterval(() => {
      for (const p of [palPhone, ...phones]) if (p.connected) p.emit(ClientEvent.Heartbeat, {}, () => undefined);
    }, 2_000);
    try {
      b!.proc.kill('SIGKILL');
      const killedAt = Date.now();
      await b!.exited;
      // One of them reconnects to A and goes on heartbeating there; the other phone is in a pocket.
      phones[1] = await cluster.connect(a!, back.token);
      await waitUntil(async () => (await cluster.store.get(back.id, Date.now()))?.nodeId?.startsWith('nodeA') === true, 5_000);

      await waitUntil(
        () => !list.people.has(gone.id) && heard.some((m) => m.userId === gone.id && m.venueId === null),
        15_000 - (Date.now() - killedAt),
        50,
      );
      console.info(
        `the dead node’s guest left the list and friends heard it ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the SIGKILL`,
      );
      expect(Date.now() - killedAt).toBeLessThan(15_000);

      // A little longer: the reconnected guest stays listed, and nobody was told it left; the reap was told once.
      await new Promise((r) => setTimeout(r, 3_000));
      expect(list.ids()).toEqual([back.id]);
      expect(heard.filter((m) => m.userId === back.id && m.venueId === null)).toEqual([]);
      expect(heard.filter((m) => m.userId === gone.id && m.venueId === null)).toHaveLength(1);
      // The list the pal reads afresh agrees with the one the messages built.
      const fresh = await peopleAt(c!, pal.token, venue.id);
      expect((fresh.body as { people: { userId: string }[] }).people.map((p) => p.userId)).toEqual([back.id]);
    } finally {
      clearInterval(beat);
    }
  }, 120_000);
});
