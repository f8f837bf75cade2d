import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoPresenceStore } from '../../server/presence/dynamo-presence-store';
import { DynamoNodeLeases } from '../../server/presence/node-leases';
import { MemoryPresenceStore } from '../../server/presence/memory-presence-store';
import type { EndedStay, PresenceStore } from '../../server/presence/presence-store';
import { createDynamoClients } from '../../server/storage/dynamo-client';
import { deleteTables, ensureTables, tableName } from '../../server/storage/dynamo-tables';
import { isolationIds } from '../helpers/isolation';
import { CONTRACT_TIMINGS } from './presence-store.contract';

const { tablePrefix } = isolationIds('node-stays');
const { client, doc } = createDynamoClients({ endpoint: inject('dynamoEndpoint'), region: 'us-east-1' });

beforeAll(async () => {
  await ensureTables(client, tablePrefix);
});
afterAll(async () => {
  await deleteTables(client, tablePrefix);
  client.destroy();
});

const stores: [string, () => PresenceStore][] = [
  ['memory', () => new MemoryPresenceStore(CONTRACT_TIMINGS)],
  ['dynamodb', () => new DynamoPresenceStore({ doc, tablePrefix, ...CONTRACT_TIMINGS })],
];

for (const [name, make] of stores) {
  describe(`endNodeStays (${name})`, () => {
    it('ends exactly the stays the dead node still owns, once, even with two survivors at it; a resumed stay is kept', async () => {
      const store = make();
      await store.clear();
      const now = Date.now();
      const v = `v-${name}-${now}`;
      for (let i = 0; i < 6; i++) await store.checkIn({ userId: `u${i}-${now}`, venueId: v, lat: 0, lng: 0, now, nodeId: 'dead~1' });
      await store.checkIn({ userId: `other-${now}`, venueId: v, lat: 0, lng: 0, now, nodeId: 'alive~1' });
      // Two phones reconnected to a live node first.
      expect((await store.resume(`u0-${now}`, now + 1, 'alive~1'))?.nodeId).toBe('alive~1');
      expect((await store.resume(`u1-${now}`, now + 1, 'alive~1'))?.nodeId).toBe('alive~1');
      // A heartbeat keeps the owner.
      expect((await store.heartbeat(`u2-${now}`, now + 2)).presence?.nodeId).toBe('dead~1');
      // The GSI trails writes by a moment.
      await new Promise((r) => setTimeout(r, 300));
      const ended: EndedStay[] = [];
      const [a, b] = await Promise.all([
        store.endNodeStays('dead~1', now + 3, (e) => ended.push(e)),
        store.endNodeStays('dead~1', now + 3, (e) => ended.push(e)),
      ]);
      expect(ended.map((e) => e.userId).sort()).toEqual([2, 3, 4, 5].map((i) => `u${i}-${now}`).sort());
      expect((await store.getCounts([v])).get(v)!.count).toBe(3);
      expect([...a, ...b].every((c) => c.venueId === v)).toBe(true);
      expect(await store.endNodeStays('dead~1', now + 4)).toEqual([]);
      expect((await store.getCounts([v])).get(v)!.count).toBe(3);
    });
  });
}

describe('node leases in DynamoDB', () => {
  it('a lapsed lease is claimed by one survivor; its node then learns it was declared dead', async () => {
    const leases = new DynamoNodeLeases(doc, tableName(tablePrefix, 'presence'), 2_000);
    const now = Date.now();
    expect(await leases.renew('n1~a', 'n1', now, now + 1_000)).toBe('renewed');
    const lease = (await leases.list()).find((l) => l.key === 'n1~a')!;
    expect(lease).toMatchObject({ state: 'alive', leaseUntil: now + 1_000 });
    const claims = await Promise.all([
      leases.claim(lease, 'n2~a', now + 2_000, now + 9_000),
      leases.claim(lease, 'n3~a', now + 2_000, now + 9_000),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await leases.renew('n1~a', 'n1', now + 2_100, now + 3_100)).toBe('declared-dead');
    await leases.markDead('n1~a', claims[0] ? 'n2~a' : 'n3~a', now + 2_200);
    expect((await leases.list()).find((l) => l.key === 'n1~a')?.state).toBe('dead');
  });

  it('a renewal between the check and the claim wins: a slow node is not declared dead', async () => {
    const leases = new DynamoNodeLeases(doc, tableName(tablePrefix, 'presence'), 2_000);
    const now = Date.now();
    await leases.renew('slow~a', 'slow', now, now + 1_000);
    const seen = (await leases.list()).find((l) => l.key === 'slow~a')!;
    await leases.renew('slow~a', 'slow', now + 1_500, now + 2_500);
    expect(await leases.claim(seen, 'n2~a', now + 1_600, now + 9_000)).toBe(false);
    expect(await leases.renew('slow~a', 'slow', now + 2_000, now + 3_000)).toBe('renewed');
  });
});
