import { randomUUID } from 'node:crypto';
import {
  ScanCommand,
  TransactGetCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { mapLimit } from '../lib/map-limit';
import { isCancelledTransaction, isConditionFailure, isConflict, retryOnRace } from '../storage/dynamo-errors';
import { FreshBatchReads } from './fresh-reads';
import type { VenueCount, Drift, StoredCount } from './presence-store';
import type { Item } from './dynamo-stay-table';

/** A venue's counter: its shards summed, each shard's version kept for a repair's conditions. */
interface CounterRow {
  count: number;
  version: number;
  updatedAt: number;
  shards: Map<number, number>;
}

/** DynamoDB's limit on the items of one TransactGetItems / TransactWriteItems. */
const MAX_TRANSACT_ITEMS = 100;

/**
 * Sharded venue counters. One item absorbs ~1,000 writes/s, less than a big venue at opening time,
 * so each venue has `counterShards` items (venueId, shard); each node writes its own shard (one per
 * transaction slot), so nodes' batches do not contend for one item (a shard may go negative; only the
 * sum means anything). count = Σ shard counts; version = Σ shard versions, each shard's version + 1
 * per change (a batch merging n changes of a venue adds n). Every shard version only grows, so the
 * sum never goes backwards for any read that starts after another ended, and the read with the
 * highest version is the exact count.
 */
export class VenueCounters {
  /** Counters read after writes: every venue a window's commits touched, in one read (see fresh-reads.ts). */
  private readonly reads = new FreshBatchReads<CounterRow | undefined>((venueIds) => this.read(venueIds));

  constructor(
    private readonly o: {
      doc: DynamoDBDocumentClient;
      table: string;
      /** Shards per venue; may grow, never shrink: reads sum shards 0..n-1. */
      shards: number;
      /** This store's first shard (its in-flight slots take the next ones). */
      firstShard: number;
      maxAttempts: number;
      /** reconcile leaves a venue alone until its counter has been quiet this long: the venue index is eventually consistent. */
      settleMs: number;
      /** Every stay the presence table holds at the venue, expired ones included. */
      countStays: (venueId: string) => Promise<number>;
    },
  ) {}

  get table(): string {
    return this.o.table;
  }

  /**
   * The counter update of membership changes: `delta` on one of this store's shards (slot 0 unless a
   * batch in flight holds it), the shard's version + `changes` (the number of changes merged into it).
   * Every path that changes membership uses this, so a venue's summed version counts its changes.
   */
  op(venueId: string, delta: number, now: number, slot = 0, changes = 1) {
    return {
      Update: {
        TableName: this.o.table,
        Key: { venueId, shard: (this.o.firstShard + slot) % this.o.shards },
        UpdateExpression: 'ADD #count :d, #ver :one SET #at = :now',
        ExpressionAttributeNames: { '#count': 'count', '#ver': 'version', '#at': 'updatedAt' },
        ExpressionAttributeValues: { ':d': delta, ':one': changes, ':now': now },
      },
    };
  }

  async getCounts(venueIds: string[]): Promise<Map<string, StoredCount>> {
    const rows = await this.read(venueIds);
    return new Map(
      [...new Set(venueIds)].map((id) => {
        const r = rows.get(id);
        return [id, { count: r?.count ?? 0, version: r?.version ?? 0 }];
      }),
    );
  }

  /**
   * The counts after this node's own writes. Each needs a read that starts after its write; at a busy
   * venue the writers in flight together share one (see fresh-reads.ts), so a closing-time burst does
   * not turn into as many TransactGetItems, each racing the writes on the same shards.
   */
  async changesFor(venueIds: string[]): Promise<VenueCount[]> {
    const venues = [...new Set(venueIds)];
    const rows = await Promise.all(venues.map((venueId) => this.reads.get(venueId)));
    return venues.map((venueId, i) => ({ venueId, count: rows[i]?.count ?? 0, version: rows[i]?.version ?? 0 }));
  }

  /**
   * Reads each venue's shards in one TransactGetItems, so the shards are seen at one serial point.
   * That is what makes the summed version a total order: every counter write bumps exactly one
   * shard's version by one, so a snapshot's version is the number of changes before it, and two reads
   * with the same version have the same count. Separate reads of the shards (BatchGet) can mix
   * moments and give an equal version with another count, which clients would drop as not newer.
   */
  private async read(venueIds: string[]): Promise<Map<string, CounterRow>> {
    const rows = new Map<string, CounterRow>();
    const venues = [...new Set(venueIds)];
    const perChunk = Math.max(1, Math.floor(MAX_TRANSACT_ITEMS / this.o.shards));
    const chunks: string[][] = [];
    for (let i = 0; i < venues.length; i += perChunk) chunks.push(venues.slice(i, i + perChunk));
    await mapLimit(chunks, 4, async (chunk) => {
      const keys = chunk.flatMap((venueId) => Array.from({ length: this.o.shards }, (_, shard) => ({ venueId, shard })));
      const out = await retryOnRace(
        // A read that meets a transaction in flight on the same shards is cancelled; read again.
        {
          maxAttempts: this.o.maxAttempts,
          what: 'venue counters busy; a read',
          isRace: (err) => isConflict(err) || isCancelledTransaction(err),
        },
        () => this.o.doc.send(new TransactGetCommand({ TransactItems: keys.map((Key) => ({ Get: { TableName: this.o.table, Key } })) })),
      );
      for (const r of out.Responses ?? []) if (r.Item) addShard(rows, r.Item);
    });
    return rows;
  }

  /** Compares every quiet venue's counter with its stays and corrects the counter where they differ. */
  async reconcile(now: number): Promise<Drift[]> {
    const before = new Map<string, CounterRow>();
    let start: Item | undefined;
    do {
      const page = await this.o.doc.send(new ScanCommand({ TableName: this.o.table, ConsistentRead: true, ExclusiveStartKey: start }));
      for (const it of page.Items ?? []) addShard(before, it);
      start = page.LastEvaluatedKey;
    } while (start);

    const drift: Drift[] = [];
    await mapLimit([...before], 4, async ([venueId, row]) => {
      // The venue index trails writes by a moment: a counter changed recently may be right while the
      // index still misses the newest stays. Only a quiet venue is recounted; a busy one waits a run.
      if (now - row.updatedAt < this.o.settleMs) return;
      const actual = await this.o.countStays(venueId);
      const after = (await this.read([venueId])).get(venueId);
      if (!after || after.version !== row.version) return;
      if (actual === row.count) return;
      if (await this.repair(venueId, after, actual - row.count, now)) drift.push({ venueId, stored: row.count, actual });
    });
    return drift;
  }

  /** Applies the correction only if no shard changed since it was measured (else the next run retries). */
  private async repair(venueId: string, row: CounterRow, delta: number, now: number): Promise<boolean> {
    const ops: NonNullable<TransactWriteCommandInput['TransactItems']> = [];
    for (let shard = 0; shard < this.o.shards; shard++) {
      const version = row.shards.get(shard);
      const condition =
        version === undefined
          ? { ConditionExpression: 'attribute_not_exists(venueId)' }
          : {
              ConditionExpression: version === 0 ? 'attribute_not_exists(#ver) OR #ver = :ver' : '#ver = :ver',
              ExpressionAttributeNames: { '#ver': 'version' },
              ExpressionAttributeValues: { ':ver': version },
            };
      if (shard === 0) {
        ops.push({
          Update: {
            TableName: this.o.table,
            Key: { venueId, shard },
            UpdateExpression: 'ADD #count :d, #ver :one SET #at = :now',
            ConditionExpression: condition.ConditionExpression,
            ExpressionAttributeNames: { '#count': 'count', '#ver': 'version', '#at': 'updatedAt' },
            ExpressionAttributeValues: { ':d': delta, ':one': 1, ':now': now, ...(version === undefined ? {} : { ':ver': version }) },
          },
        });
      } else {
        ops.push({ ConditionCheck: { TableName: this.o.table, Key: { venueId, shard }, ...condition } });
      }
    }
    // False when a condition failed or another transaction held a shard: the next run measures again.
    // The request token makes the SDK's own retries of a committed call idempotent.
    try {
      await this.o.doc.send(new TransactWriteCommand({ TransactItems: ops, ClientRequestToken: randomUUID() }));
      return true;
    } catch (err) {
      if (isConditionFailure(err) || isConflict(err)) return false;
      throw err;
    }
  }
}

function addShard(rows: Map<string, CounterRow>, it: Item): void {
  const venueId = String(it.venueId);
  const row = rows.get(venueId) ?? { count: 0, version: 0, updatedAt: 0, shards: new Map<number, number>() };
  const version = Number(it.version ?? 0);
  row.count += Number(it.count ?? 0);
  row.version += version;
  row.updatedAt = Math.max(row.updatedAt, Number(it.updatedAt ?? 0));
  row.shards.set(Number(it.shard), version);
  rows.set(venueId, row);
}
