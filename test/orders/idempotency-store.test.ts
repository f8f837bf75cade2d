import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoIdempotencyStore } from '../../server/orders/idempotency/dynamo-idempotency-store';
import type { IdempotencyStore } from '../../server/orders/idempotency/idempotency-store';
import { MemoryIdempotencyStore } from '../../server/orders/idempotency/memory-idempotency-store';
import { createDynamoClients, type DynamoClients } from '../../server/storage/dynamo-client';
import { deleteTables, ensureTables } from '../../server/storage/dynamo-tables';
import { isolationIds } from '../helpers/isolation';

const timings = { ttlMs: 3_600_000, leaseMs: 60_000 };
const T0 = 1_800_000_000_000;
let n = 0;
const key = () => `user-1:key-${n++}-${Math.random()}`;

/** One behaviour, two stores: what the Idempotency-Key middleware relies on. */
function describeIdempotencyStore(name: string, make: () => Promise<IdempotencyStore>) {
  describe(name, () => {
    let store: IdempotencyStore;
    beforeAll(async () => {
      store = await make();
    });

    it('starts a new key once; a repeat while running is in progress, another body a mismatch', async () => {
      const k = key();
      expect(await store.begin(k, 'fp-a', T0)).toEqual({ kind: 'started' });
      expect(await store.begin(k, 'fp-a', T0 + 10)).toEqual({ kind: 'in_progress' });
      expect(await store.begin(k, 'fp-b', T0 + 10)).toEqual({ kind: 'mismatch' });
    });

    it('replays a completed answer to the same body only', async () => {
      const k = key();
      await store.begin(k, 'fp-a', T0);
      await store.complete(k, 'fp-a', { status: 201, body: { order: { id: 'o1' } } }, T0 + 5);
      expect(await store.begin(k, 'fp-a', T0 + 10)).toEqual({ kind: 'replay', response: { status: 201, body: { order: { id: 'o1' } } } });
      expect(await store.begin(k, 'fp-b', T0 + 10)).toEqual({ kind: 'mismatch' });
    });

    it('a released (failed) attempt can be retried, with any body', async () => {
      const k = key();
      await store.begin(k, 'fp-a', T0);
      await store.release(k, 'fp-a');
      expect(await store.begin(k, 'fp-b', T0 + 10)).toEqual({ kind: 'started' });
    });

    it('release does not drop a finished answer, nor someone else’s attempt', async () => {
      const k = key();
      await store.begin(k, 'fp-a', T0);
      await store.release(k, 'fp-b');
      expect(await store.begin(k, 'fp-a', T0 + 1)).toEqual({ kind: 'in_progress' });
      await store.complete(k, 'fp-a', { status: 200, body: null }, T0 + 2);
      await store.release(k, 'fp-a');
      expect((await store.begin(k, 'fp-a', T0 + 3)).kind).toBe('replay');
    });

    it('a lapsed lease of the same body may be taken over; expired records are gone', async () => {
      const k = key();
      await store.begin(k, 'fp-a', T0);
      expect(await store.begin(k, 'fp-b', T0 + timings.leaseMs + 1)).toEqual({ kind: 'mismatch' });
      expect(await store.begin(k, 'fp-a', T0 + timings.leaseMs + 1)).toEqual({ kind: 'started' });
      const k2 = key();
      await store.begin(k2, 'fp-a', T0);
      await store.complete(k2, 'fp-a', { status: 201, body: 1 }, T0);
      expect(await store.begin(k2, 'fp-b', T0 + timings.ttlMs + 1)).toEqual({ kind: 'started' });
    });

    it('of many concurrent begins for one key exactly one starts', async () => {
      const k = key();
      const results = await Promise.all(Array.from({ length: 10 }, () => store.begin(k, 'fp-a', T0)));
      expect(results.filter((r) => r.kind === 'started')).toHaveLength(1);
      expect(results.filter((r) => r.kind === 'in_progress')).toHaveLength(9);
    });
  });
}

describeIdempotencyStore('MemoryIdempotencyStore', async () => new MemoryIdempotencyStore(timings));

let dynamo: DynamoClients | undefined;
const prefix = isolationIds('idem').tablePrefix;
describeIdempotencyStore('DynamoIdempotencyStore (DynamoDB Local)', async () => {
  dynamo = createDynamoClients({ endpoint: inject('dynamoEndpoint'), region: 'us-east-1' });
  await ensureTables(dynamo.client, prefix);
  return new DynamoIdempotencyStore(dynamo.doc, prefix, timings);
});
afterAll(async () => {
  if (dynamo) {
    await deleteTables(dynamo.client, prefix);
    dynamo.client.destroy();
  }
});
