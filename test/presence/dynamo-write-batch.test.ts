import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoPresenceStore } from '../../server/presence/dynamo-presence-store';
import { createDynamoClients } from '../../server/storage/dynamo-client';
import { deleteTables, ensureTables } from '../../server/storage/dynamo-tables';
import { isolationIds } from '../helpers/isolation';
import { CONTRACT_TIMINGS } from './presence-store.contract';

/**
 * The write path without a read first: two store instances on the same tables are two nodes, each
 * remembering what it last wrote. Requests are counted at the SDK, per store, by command.
 */
const { tablePrefix } = isolationIds('dynamo-batch');
const endpoint = inject('dynamoEndpoint');
const admin = createDynamoClients({ endpoint, region: 'us-east-1' });
const T0 = 1_700_000_000_000;
let seq = 0;
const uid = (label: string) => `${label}-${process.pid}-${++seq}`;

function node(opts: { writeWindowMs?: number } = {}) {
  const { client, doc } = createDynamoClients({ endpoint, region: 'us-east-1' });
  const requests = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const c = (context.commandName ?? '?').replace(/Command$/, '');
      requests.set(c, (requests.get(c) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  const batches: number[] = [];
  const store = new DynamoPresenceStore({ doc, tablePrefix, ...CONTRACT_TIMINGS, ...opts, onWriteBatch: (n) => batches.push(n) });
  return { store, client, requests, batches, reset: () => (requests.clear(), (batches.length = 0)) };
}

const nodes: ReturnType<typeof node>[] = [];
const started = (opts?: { writeWindowMs?: number }) => {
  const n = node(opts);
  nodes.push(n);
  return n;
};

beforeAll(async () => {
  await ensureTables(admin.client, tablePrefix);
});

afterAll(async () => {
  for (const n of nodes) n.client.destroy();
  await deleteTables(admin.client, tablePrefix);
  admin.client.destroy();
});

async function counts(store: DynamoPresenceStore, ...venues: string[]): Promise<number[]> {
  const c = await store.getCounts(venues);
  return venues.map((v) => c.get(v)!.count);
}

describe('DynamoDB presence writes without a read first', () => {
  it('a move the node already knows about sends one transaction and one counter read, no query', async () => {
    const a = started();
    const [u, v1, v2] = [uid('u'), uid('v'), uid('v')];
    await a.store.checkIn({ userId: u, venueId: v1, lat: 0, lng: 0, now: T0 });
    a.reset();
    const move = await a.store.checkIn({ userId: u, venueId: v2, lat: 0, lng: 0, now: T0 + 1_000 });
    expect(move.previousVenueId).toBe(v1);
    expect(Object.fromEntries(a.requests)).toEqual({ TransactWriteItems: 1, TransactGetItems: 1 });
    expect(await counts(a.store, v1, v2)).toEqual([0, 1]);
  });

  it('a copy made stale by another node fails its condition, falls back to a read and still counts exactly', async () => {
    const a = started();
    const b = started();
    const [u, v1, v2, v3] = [uid('u'), uid('v'), uid('v'), uid('v')];
    await a.store.checkIn({ userId: u, venueId: v1, lat: 0, lng: 0, now: T0 });
    // The phone reconnected to node B and moved there: A's memory of the user is now wrong.
    await b.store.checkIn({ userId: u, venueId: v2, lat: 0, lng: 0, now: T0 + 1_000 });
    a.reset();
    const move = await a.store.checkIn({ userId: u, venueId: v3, lat: 0, lng: 0, now: T0 + 2_000 });
    expect(move.previousVenueId).toBe(v2);
    expect(a.requests.get('Query')).toBe(1);
    expect(await counts(a.store, v1, v2, v3)).toEqual([0, 0, 1]);

    // B now remembers v2; a heartbeat, a flag change and a leave from its stale copy all re-read.
    const later = T0 + 2_000 + (CONTRACT_TIMINGS.timeoutMs * 3) / 4;
    const beat = await b.store.heartbeat(u, later);
    expect(beat).toMatchObject({ wrote: true, presence: { venueId: v3, lastSeenAt: later } });
    await a.store.update(u, { wantsToBuy: true }, later + 1);
    expect(await a.store.update(u, { wantsToBuy: true }, later + 2)).toMatchObject({ venueId: v3, wantsToBuy: true });
    expect(await b.store.leave(u, later + 3, v2)).toEqual({ changes: [], venueId: null });
    expect((await a.store.leave(u, later + 4)).venueId).toBe(v3);
    expect(await counts(a.store, v1, v2, v3)).toEqual([0, 0, 0]);
    // A's copy says "left"; B re-checks in from its stale copy: still exactly one stay.
    await b.store.checkIn({ userId: u, venueId: v1, lat: 0, lng: 0, now: later + 5 });
    expect(await counts(a.store, v1, v2, v3)).toEqual([1, 0, 0]);
    expect((await a.store.get(u, later + 6))?.venueId).toBe(v1);
  });

  it('a stale copy never ends a stay a later check-in replaced at the same venue', async () => {
    const a = started();
    const b = started();
    const [u, v1, v2] = [uid('u'), uid('v'), uid('v')];
    await a.store.checkIn({ userId: u, venueId: v1, lat: 0, lng: 0, now: T0 });
    await b.store.checkIn({ userId: u, venueId: v2, lat: 0, lng: 0, now: T0 + 1 });
    await b.store.checkIn({ userId: u, venueId: v1, lat: 0, lng: 0, now: T0 + 2 });
    // A remembers the first stay at v1; the one there now is another. A's grace cut must not touch it.
    const cut = await a.store.expireAt(u, T0 + 10, T0 + 3, { unlessSeenAfter: T0 });
    expect(cut?.expiresAt).toBe(T0 + 2 + CONTRACT_TIMINGS.timeoutMs);
    expect(await counts(a.store, v1, v2)).toEqual([1, 0]);
  });
});

describe('DynamoDB presence write batches', () => {
  it('many users in one transaction, counters merged per venue, versions counting every change', async () => {
    const a = started({ writeWindowMs: 30 });
    const [from, to] = [uid('v'), uid('v')];
    const users = Array.from({ length: 12 }, () => uid('u'));
    await Promise.all(users.map((u) => a.store.checkIn({ userId: u, venueId: from, lat: 0, lng: 0, now: T0 })));
    a.reset();
    const moves = await Promise.all(users.map((u) => a.store.checkIn({ userId: u, venueId: to, lat: 0, lng: 0, now: T0 + 1 })));
    expect(a.batches).toEqual([12]);
    expect(a.requests.get('TransactWriteItems')).toBe(1);
    // Every writer of the batch shares one counter read.
    expect(a.requests.get('TransactGetItems')).toBe(1);
    for (const m of moves) expect(Object.fromEntries(m.changes.map((c) => [c.venueId, c.count]))).toEqual({ [from]: 0, [to]: 12 });
    expect((await a.store.getCounts([from, to])).get(to)).toEqual({ count: 12, version: 12 });
    expect((await a.store.getCounts([from, to])).get(from)).toEqual({ count: 0, version: 24 });
  });

  it("a transaction cancelled by one user's stale condition commits the others and retries that one after a read", async () => {
    const a = started({ writeWindowMs: 30 });
    const b = started();
    const [v0, v1, elsewhere] = [uid('v'), uid('v'), uid('v')];
    const users = Array.from({ length: 5 }, () => uid('u'));
    await Promise.all(users.map((u) => a.store.checkIn({ userId: u, venueId: v0, lat: 0, lng: 0, now: T0 })));
    // Node B moves user #2 away: A's copy of that user is stale, the others' are right.
    await b.store.checkIn({ userId: users[2]!, venueId: elsewhere, lat: 0, lng: 0, now: T0 + 1 });
    a.reset();
    const moves = await Promise.all(users.map((u) => a.store.checkIn({ userId: u, venueId: v1, lat: 0, lng: 0, now: T0 + 2 })));
    // First transaction: all five, cancelled (user #2's old stay fails its exact-expiry condition). The four others
    // commit together in the next; user #2 re-reads (one query) and commits its real move.
    expect(a.requests.get('Query')).toBe(1);
    expect(a.batches.reduce((x, y) => x + y, 0)).toBe(5);
    expect(a.batches[0]).toBe(4);
    expect(a.requests.get('TransactWriteItems')).toBe(1 + a.batches.length);
    expect(moves.map((m) => m.previousVenueId)).toEqual([v0, v0, elsewhere, v0, v0]);
    expect(await counts(a.store, v0, v1, elsewhere)).toEqual([0, 5, 0]);
    const versions = await a.store.getCounts([v0, v1, elsewhere]);
    expect(versions.get(v1)!.version).toBe(5);
    expect(versions.get(elsewhere)!.version).toBe(2);
  });

  it('two concurrent writes of one user never share a transaction: one stay, counted once', async () => {
    const a = started({ writeWindowMs: 30 });
    const [u, v1, v2, v3] = [uid('u'), uid('v'), uid('v'), uid('v')];
    await a.store.checkIn({ userId: u, venueId: v1, lat: 0, lng: 0, now: T0 });
    a.reset();
    const [x, y] = await Promise.all([
      a.store.checkIn({ userId: u, venueId: v2, lat: 0, lng: 0, now: T0 + 1 }),
      a.store.checkIn({ userId: u, venueId: v3, lat: 0, lng: 0, now: T0 + 1 }),
    ]);
    // Either may commit first (a retried transaction can let the other through): the first moved from v1;
    // the second, built from the same memory, waited for a later transaction, failed its condition there
    // and moved from where the first went. Every transaction carried this user's one write alone.
    const [first, second, last] = x.previousVenueId === v1 ? [x, y, v3] : [y, x, v2];
    expect(first.previousVenueId).toBe(v1);
    expect(second.previousVenueId).toBe(first.presence.venueId);
    expect(a.batches.length).toBeGreaterThanOrEqual(2);
    expect(a.batches.every((n) => n === 1)).toBe(true);
    expect((await a.store.get(u, T0 + 2))?.venueId).toBe(last);
    expect(await counts(a.store, v1, v2, v3)).toEqual(last === v3 ? [0, 0, 1] : [0, 1, 0]);
  });

  it('sweeps end many stays in shared transactions, each exactly once across two nodes', async () => {
    const a = started({ writeWindowMs: 10 });
    const b = started({ writeWindowMs: 10 });
    const venue = uid('v');
    const users = Array.from({ length: 30 }, () => uid('u'));
    await Promise.all(users.map((u) => a.store.checkIn({ userId: u, venueId: venue, lat: 0, lng: 0, now: T0 })));
    const after = T0 + CONTRACT_TIMINGS.timeoutMs + 1;
    const ended: string[] = [];
    for (let i = 0; i < 10; i++) {
      const [x, y] = await Promise.all([
        a.store.sweepExpired(after, 500, (e) => ended.push(e.userId)),
        b.store.sweepExpired(after, 500, (e) => ended.push(e.userId)),
      ]);
      if (x.length === 0 && y.length === 0 && ended.filter((id) => users.includes(id)).length === users.length) break;
    }
    expect(ended.filter((id) => users.includes(id)).sort()).toEqual([...users].sort());
    expect(await counts(a.store, venue)).toEqual([0]);
  });
});
