import { BatchWriteCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NODE_ATTRIBUTE, PRESENCE_BY_EXPIRY, PRESENCE_BY_VENUE } from '../storage/dynamo-tables';
import { isConditionFailure, jitter, sleep } from '../storage/dynamo-errors';
import { expiryFor, type CheckInInput, type PresenceRecord, type PresenceTimings } from './presence-store';
import type { UserState } from './user-state-cache';

/** Sort key of the per-user pointer item; venue ids may not start with '#'. */
export const USER_ITEM = '#user';

export type Item = Record<string, unknown>;

/** A stay that the sweeper found past its expiry in the expiry index (which may trail the table). */
export interface ExpiredStay {
  userId: string;
  venueId: string;
  expiresAt: number;
}

/**
 * The presence table one item at a time: how a stay is stored (its expiry-index keys, DynamoDB TTL),
 * the user's partition read, and the single-item conditional updates (same-venue check-in, heartbeat,
 * grace, flags). Membership changes are not here: they also move a counter, so they go through the
 * store's write batch.
 */
export class StayTable {
  constructor(
    private readonly o: {
      doc: DynamoDBDocumentClient;
      table: string;
      /** Partitions of the expiry index: spreads heartbeat index writes and sweep reads. */
      expiryShards: number;
      /** Seconds added to the expiry for DynamoDB's own TTL cleanup of leftovers. */
      ttlMarginS: number;
    },
  ) {}

  get table(): string {
    return this.o.table;
  }

  toItem(p: PresenceRecord): Item {
    const { nodeId, ...stay } = p;
    return {
      ...stay,
      ...(nodeId !== undefined ? { [NODE_ATTRIBUTE]: nodeId } : {}),
      expShard: String(stableShard(p.userId, this.o.expiryShards)),
      ttl: this.ttlOf(p.expiresAt),
    };
  }

  ttlOf(expiresAtMs: number): number {
    return Math.ceil(expiresAtMs / 1000) + this.o.ttlMarginS;
  }

  /** The condition "still exactly the stay that was read" for a delete or replacement. */
  exactExpiry(item: Pick<PresenceRecord, 'expiresAt'>) {
    return {
      ConditionExpression: '#exp = :exp',
      ExpressionAttributeNames: { '#exp': 'expiresAt' },
      ExpressionAttributeValues: { ':exp': item.expiresAt },
    };
  }

  /** The user's partition in one strongly consistent read: pointer + stay. */
  async readUser(userId: string): Promise<UserState> {
    const out = await this.o.doc.send(
      new QueryCommand({
        TableName: this.o.table,
        KeyConditionExpression: 'userId = :u',
        ExpressionAttributeValues: { ':u': userId },
        ConsistentRead: true,
      }),
    );
    let rev: number | undefined;
    let item: PresenceRecord | undefined;
    for (const it of out.Items ?? []) {
      if (it.venueId === USER_ITEM) rev = Number(it.rev);
      // The invariant allows one stay; should a second ever exist, the newest wins and a move/leave ends it first.
      else if (!item || Number(it.checkedInAt) > item.checkedInAt) item = fromItem(it);
    }
    return { rev, item };
  }

  /** Same venue again: position, flags and expiry only. Null when the stay ended meanwhile. */
  async refresh(old: PresenceRecord, input: CheckInInput, t: PresenceTimings): Promise<PresenceRecord | null> {
    const expiresAt = Math.max(old.expiresAt, expiryFor(input.now, old.checkedInAt, t));
    try {
      const out = await this.o.doc.send(
        new UpdateCommand({
          TableName: this.o.table,
          Key: { userId: old.userId, venueId: old.venueId },
          UpdateExpression: `SET #lat = :lat, #lng = :lng, #buy = :buy, #recv = :recv, #vis = :vis, #seen = :now, #exp = :exp, #ttl = :ttl${input.nodeId !== undefined ? ', #node = :node' : ''}`,
          // Exactly the stay we know (it may be a remembered copy): anything else re-reads first.
          ConditionExpression: '#exp = :old AND #cin = :cin AND #exp > :now',
          ExpressionAttributeNames: {
            '#lat': 'lat',
            '#lng': 'lng',
            '#buy': 'wantsToBuy',
            '#recv': 'wantsToReceive',
            '#vis': 'visible',
            '#seen': 'lastSeenAt',
            '#exp': 'expiresAt',
            '#ttl': 'ttl',
            '#cin': 'checkedInAt',
            ...(input.nodeId !== undefined ? { '#node': NODE_ATTRIBUTE } : {}),
          },
          ExpressionAttributeValues: {
            ':lat': input.lat,
            ':lng': input.lng,
            ':buy': input.wantsToBuy ?? old.wantsToBuy,
            ':recv': input.wantsToReceive ?? old.wantsToReceive,
            ':vis': input.visible ?? old.visible,
            ':now': input.now,
            ':exp': expiresAt,
            ':ttl': this.ttlOf(expiresAt),
            ':old': old.expiresAt,
            ':cin': old.checkedInAt,
            ...(input.nodeId !== undefined ? { ':node': input.nodeId } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(out.Attributes ?? {});
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw err;
    }
  }

  /**
   * SET on the stay conditioned on its expiry being what we read and still in the future, so a
   * heartbeat cannot revive a stay the sweeper is ending, nor undo a concurrent grace shortening.
   * Null when the stay is no longer the one read.
   */
  async updateIfUnchanged(
    item: PresenceRecord,
    now: number,
    set: Record<string, unknown>,
    sameSeen = false,
  ): Promise<PresenceRecord | null> {
    const names: Record<string, string> = { '#exp': 'expiresAt', '#cin': 'checkedInAt', ...(sameSeen ? { '#seenAt': 'lastSeenAt' } : {}) };
    const values: Record<string, unknown> = {
      ':old': item.expiresAt,
      ':cin': item.checkedInAt,
      ':now': now,
      ...(sameSeen ? { ':seenAt': item.lastSeenAt } : {}),
    };
    const parts: string[] = [];
    Object.entries(set).forEach(([k, v], i) => {
      names[`#s${i}`] = k;
      values[`:s${i}`] = v;
      parts.push(`#s${i} = :s${i}`);
    });
    try {
      const out = await this.o.doc.send(
        new UpdateCommand({
          TableName: this.o.table,
          Key: { userId: item.userId, venueId: item.venueId },
          UpdateExpression: `SET ${parts.join(', ')}`,
          ConditionExpression: `#exp = :old AND #cin = :cin AND #exp > :now${sameSeen ? ' AND #seenAt = :seenAt' : ''}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(out.Attributes ?? {});
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw err;
    }
  }

  /**
   * Stays past their expiry, oldest first, from each expiry-index partition (at most `limit` in all):
   * no Scan. The index is eventually consistent, so each end must still be conditioned on what it read.
   */
  async expired(now: number, limit: number): Promise<ExpiredStay[]> {
    const candidates: ExpiredStay[] = [];
    const perShard = Math.max(1, Math.ceil(limit / this.o.expiryShards));
    await Promise.all(
      Array.from({ length: this.o.expiryShards }, async (_, shard) => {
        const out = await this.o.doc.send(
          new QueryCommand({
            TableName: this.o.table,
            IndexName: PRESENCE_BY_EXPIRY,
            KeyConditionExpression: '#shard = :shard AND #exp <= :now',
            ExpressionAttributeNames: { '#shard': 'expShard', '#exp': 'expiresAt' },
            ExpressionAttributeValues: { ':shard': String(shard), ':now': now },
            Limit: perShard,
          }),
        );
        for (const it of out.Items ?? []) {
          candidates.push({ userId: String(it.userId), venueId: String(it.venueId), expiresAt: Number(it.expiresAt) });
        }
      }),
    );
    return candidates.slice(0, limit);
  }

  async listVenue(venueId: string, now: number): Promise<PresenceRecord[]> {
    const out: PresenceRecord[] = [];
    await this.queryVenue(venueId, { now }, (page) => {
      for (const it of page.Items ?? []) out.push(fromItem(it));
    });
    return out;
  }

  /** Counts every stay recorded at the venue, expired ones included: the sweeper still owes their -1. */
  async countStays(venueId: string): Promise<number> {
    let n = 0;
    await this.queryVenue(venueId, { count: true }, (page) => {
      n += page.Count ?? 0;
    });
    return n;
  }

  /** Every page of the venue index for `venueId`: only live stays with `now`, only their number with `count`. */
  private async queryVenue(
    venueId: string,
    opts: { now?: number; count?: boolean },
    onPage: (page: { Items?: Item[]; Count?: number }) => void,
  ): Promise<void> {
    const live = opts.now !== undefined;
    let start: Item | undefined;
    do {
      const page = await this.o.doc.send(
        new QueryCommand({
          TableName: this.o.table,
          IndexName: PRESENCE_BY_VENUE,
          KeyConditionExpression: live ? '#v = :v AND #exp > :now' : '#v = :v',
          ExpressionAttributeNames: { '#v': 'venueId', ...(live ? { '#exp': 'expiresAt' } : {}) },
          ExpressionAttributeValues: { ':v': venueId, ...(live ? { ':now': opts.now } : {}) },
          ...(opts.count ? { Select: 'COUNT' as const } : {}),
          ExclusiveStartKey: start,
        }),
      );
      onPage(page);
      start = page.LastEvaluatedKey;
    } while (start);
  }
}

export function fromItem(it: Item): PresenceRecord {
  return {
    userId: String(it.userId),
    venueId: String(it.venueId),
    lat: Number(it.lat),
    lng: Number(it.lng),
    wantsToBuy: it.wantsToBuy === true,
    wantsToReceive: it.wantsToReceive === true,
    visible: it.visible !== false,
    checkedInAt: Number(it.checkedInAt),
    lastSeenAt: Number(it.lastSeenAt),
    expiresAt: Number(it.expiresAt),
    ...(typeof it[NODE_ATTRIBUTE] === 'string' ? { nodeId: it[NODE_ATTRIBUTE] } : {}),
  };
}

/** Stable, so a user's stay stays in one expiry partition across heartbeats (and a node keeps its counter shard). */
export function stableShard(s: string, n: number): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0) % n;
}

/** Empties a table (tests and dev resets): Scan for the keys, BatchWrite deletes, again for what DynamoDB left unprocessed. */
export async function deleteAll(doc: DynamoDBDocumentClient, table: string, keyNames: [string, string]): Promise<void> {
  let start: Item | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: table,
        ProjectionExpression: '#a, #b',
        ExpressionAttributeNames: { '#a': keyNames[0], '#b': keyNames[1] },
        ExclusiveStartKey: start,
      }),
    );
    const items = page.Items ?? [];
    for (let i = 0; i < items.length; i += 25) {
      let requests = items.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } }));
      for (let attempt = 1; requests.length > 0; attempt++) {
        const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
        requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
        if (requests.length > 0) await sleep(jitter(attempt));
      }
    }
    start = page.LastEvaluatedKey;
  } while (start);
}
