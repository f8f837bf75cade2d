import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoPresenceStore } from '../../server/presence/dynamo-presence-store';
import { createDynamoClients } from '../../server/storage/dynamo-client';
import { deleteTables, ensureTables, tableName } from '../../server/storage/dynamo-tables';
import { isolationIds } from '../helpers/isolation';
import { CONTRACT_TIMINGS, describePresenceStore } from './presence-store.contract';

const { tablePrefix } = isolationIds('dynamo-presence');
const { client, doc } = createDynamoClients({ endpoint: inject('dynamoEndpoint'), region: 'us-east-1' });

beforeAll(async () => {
  await ensureTables(client, tablePrefix);
});

afterAll(async () => {
  await deleteTables(client, tablePrefix);
  client.destroy();
});

/**
 * The contract's lost-write simulation, kept in test code: shifts a venue's counter to `count` on shard 0
 * without a version bump, as a lost write would.
 */
function withCorruptCount(store: DynamoPresenceStore) {
  return Object.assign(store, {
    async corruptCount(venueId: string, count: number): Promise<void> {
      const current = (await store.getCounts([venueId])).get(venueId)?.count ?? 0;
      await doc.send(
        new UpdateCommand({
          TableName: tableName(tablePrefix, 'venue-counts'),
          Key: { venueId, shard: 0 },
          UpdateExpression: 'ADD #count :d SET #at = if_not_exists(#at, :zero), #ver = if_not_exists(#ver, :zero)',
          ExpressionAttributeNames: { '#count': 'count', '#at': 'updatedAt', '#ver': 'version' },
          ExpressionAttributeValues: { ':d': count - current, ':zero': 0 },
        }),
      );
    },
  });
}

describePresenceStore('dynamodb', async () => {
  const store = new DynamoPresenceStore({ doc, tablePrefix, ...CONTRACT_TIMINGS });
  await store.clear();
  return withCorruptCount(store);
});

describe('DynamoDB tables', () => {
  it('ensureTables is idempotent: a second run changes nothing and says so', async () => {
    const lines: string[] = [];
    const report = await ensureTables(client, tablePrefix, (l) => lines.push(l));
    expect(report.created).toEqual([]);
    expect(report.ttlEnabled).toEqual([]);
    expect(report.indexesAdded).toEqual([]);
    expect(report.unchanged).toHaveLength(4);
    expect(lines.every((l) => l.includes('already up to date'))).toBe(true);
  });

  it('a hot venue spreads its count over shards and still reads exactly', async () => {
    const store = new DynamoPresenceStore({ doc, tablePrefix, ...CONTRACT_TIMINGS, counterShards: 8 });
    const venueId = `hot-${Date.now()}`;
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => store.checkIn({ userId: `hot-u${i}`, venueId, lat: 0, lng: 0, now: 1_700_000_000_000 })),
    );
    expect((await store.getCounts([venueId])).get(venueId)).toEqual({ count: 40, version: 40 });
  });
});
