import { randomUUID } from 'node:crypto';
import {
  TransactGetCommand,
  BatchWriteCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ErrorCode } from '../../protocol/errors';
import { AppError } from '../errors';
import { NODE_ATTRIBUTE, PRESENCE_BY_EXPIRY, PRESENCE_BY_VENUE, tableName } from '../storage/dynamo-tables';
import { endNodeStays } from './dynamo-node-stays';
import {
  assertVenueId,
  expiryFor,
  heartbeatExpiry,
  type CheckInInput,
  type CheckInResult,
  type CountChange,
  type Drift,
  type PresencePatch,
  type PresenceRecord,
  type EndedStay,
  type PresenceStore,
  type PresenceTimings,
  type VenueCount,
} from './presence-store';
import { FreshBatchReads } from './fresh-reads';
import { mapLimit } from './map-limit';
import { WriteBatcher, type MembershipWrite, type TransactItem } from './dynamo-write-batch';
import { isConditionFailure, isConflict, jitter, sleep } from './dynamo-errors';
import { UserStateCache, type UserState } from './user-state-cache';

export interface DynamoPresenceStoreOptions extends PresenceTimings {
  doc: DynamoDBDocumentClient;
  /** DYNAMODB_TABLE_PREFIX; tables from server/storage/dynamo-tables.ts. */
  tablePrefix: string;
  /**
   * Counter shards per venue (default 4 → ~4,000 count changes/s per venue). May grow, never shrink:
   * reads sum shards 0..n-1, so a removed shard's count would vanish.
   */
  counterShards?: number;
  /** Partitions of the expiry index (default 16): spreads heartbeat index writes and sweep reads. */
  expiryShards?: number;
  /** Seconds added to the expiry for DynamoDB's own TTL cleanup of leftovers (default 3600). */
  ttlMarginSeconds?: number;
  /** reconcile leaves a venue alone until its counter has been quiet this long (default 10 s): the venue index is eventually consistent. */
  reconcileSettleMs?: number;
  /** Attempts of a read-then-conditional-write step before giving up with CONFLICT (default 25). */
  maxAttempts?: number;
  /** How long a membership write waits for others to share its transaction (DYNAMODB_WRITE_WINDOW_MS, default 2). */
  writeWindowMs?: number;
  /** Membership transactions in flight at once from this store (default 2), each on its own counter shard. */
  writeSlots?: number;
  /**
   * First counter shard this store writes (its in-flight slots take the next ones). Nodes given
   * different shards never contend for one counter item; default random.
   */
  counterShard?: number;
  /** Users whose last known state is kept as the next write's precondition (default 100,000). */
  stateCacheSize?: number;
  /** Each committed membership transaction: how many users' writes it carried. */
  onWriteBatch?: (writes: number) => void;
  /** Each membership write's wait (ms) before its transaction was sent: the batching window's cost to the ack. */
  onWriteWait?: (ms: number) => void;
}

/** Sort key of the per-user pointer item; venue ids may not start with '#'. */
const USER_ITEM = '#user';

type Item = Record<string, unknown>;

interface CounterRow {
  count: number;
  version: number;
  updatedAt: number;
  shards: Map<number, number>;
}

/**
 * Presence on DynamoDB. Exactly-once counting: every change of membership (check-in, move, leave,
 * sweep) is one TransactWriteItems that writes/deletes presence items under conditions on exactly what
 * was read, together with the counter update. A failed condition means someone else changed the user
 * first: re-read and decide again (a replayed check-in then finds itself already done, a no-op).
 *
 * No read before the write: the store remembers (bounded) each user's state as it last wrote or read
 * it (user-state-cache.ts) and builds the write from that, conditioned on exactly it; a copy another
 * node made stale fails the condition, and only then does the store read. A decision to write nothing
 * (not checked in, nothing changed) is never taken on a remembered copy: it is confirmed by a read.
 *
 * Group commit: membership writes (check-in, move, leave, sweep) of many users share one
 * TransactWriteItems per short window (dynamo-write-batch.ts), counter deltas merged per venue on this
 * node's shard; the counters of every venue a window touched are then read once for all its writers.
 *
 * Counter sharding: one item absorbs ~1,000 writes/s, less than a big venue at opening time, so each
 * venue has `counterShards` items (venueId, shard); each node writes its own shard (one per transaction
 * slot), so nodes' batches do not contend for one item (a shard may go negative; only the sum means
 * anything). count = Σ shard counts; version = Σ shard versions, each shard's version + 1 per change
 * (a batch merging n changes of a venue adds n). Every shard version only grows, so the sum never goes backwards for
 * any read that starts after another ended, and the read with the highest version is the exact count.
 *
 * Expiry index: presence items carry `expShard` (hash of userId mod expiryShards) and `expiresAt`,
 * keys of the sparse GSI byExpiry. The sweeper queries each shard for `expiresAt <= now` and gets
 * only expired items, oldest first — no Scan. The GSI is eventually consistent, so each end is a
 * delete conditioned on the exact expiresAt read: a stale or already-ended entry just fails it.
 */
export class DynamoPresenceStore implements PresenceStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly presenceTable: string;
  private readonly countsTable: string;
  private readonly t: PresenceTimings;
  private readonly counterShards: number;
  private readonly expiryShards: number;
  private readonly ttlMarginS: number;
  private readonly settleMs: number;
  private readonly maxAttempts: number;
  private readonly counterShard: number;
  /** Counters read after writes: every venue a window's commits touched, in one read (see fresh-reads.ts). */
  private readonly counterReads = new FreshBatchReads<CounterRow | undefined>((venueIds) => this.readCounters(venueIds));
  private readonly batcher: WriteBatcher;
  private readonly known: UserStateCache;

  constructor(opts: DynamoPresenceStoreOptions) {
    this.doc = opts.doc;
    this.presenceTable = tableName(opts.tablePrefix, 'presence');
    this.countsTable = tableName(opts.tablePrefix, 'venue-counts');
    this.t = {
      timeoutMs: opts.timeoutMs,
      ttlMs: opts.ttlMs,
      ...(opts.refreshBelowMs !== undefined ? { refreshBelowMs: opts.refreshBelowMs } : {}),
    };
    this.counterShards = opts.counterShards ?? 4;
    this.expiryShards = opts.expiryShards ?? 16;
    this.ttlMarginS = opts.ttlMarginSeconds ?? 3600;
    this.settleMs = opts.reconcileSettleMs ?? 10_000;
    this.maxAttempts = opts.maxAttempts ?? 25;
    this.counterShard = (opts.counterShard ?? Math.floor(Math.random() * this.counterShards)) % this.counterShards;
    this.known = new UserStateCache(opts.stateCacheSize ?? 100_000);
    this.batcher = new WriteBatcher({
      send: async (items) =>
        void (await this.doc.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: randomUUID() }))),
      counterOp: (venueId, delta, slot, now, changes) => this.counterOp(venueId, delta, now, slot, changes),
      windowMs: opts.writeWindowMs ?? 2,
      maxInFlight: opts.writeSlots ?? 2,
      maxAttempts: this.maxAttempts,
      ...(opts.onWriteBatch ? { onCommit: opts.onWriteBatch } : {}),
      ...(opts.onWriteWait ? { onWait: opts.onWriteWait } : {}),
    });
  }

  /**
   * The user's state as this store last wrote or read it, else as stored. Writes built from a remembered
   * state carry it as their precondition; `fresh` says whether it was just read (a failed condition on a
   * fresh read is a real race and backs off; on a remembered one it only means "read first").
   */
  private async state(userId: string): Promise<{ state: UserState; fresh: boolean }> {
    const known = this.known.get(userId);
    if (known) return { state: known, fresh: false };
    return { state: await this.readUser(userId), fresh: true };
  }

  // ---- check-in / move -------------------------------------------------------------------------

  async checkIn(input: CheckInInput): Promise<CheckInResult> {
    assertVenueId(input.venueId);
    const { userId, venueId, now } = input;
    let { state, fresh } = await this.state(userId);
    for (let attempt = 1; ; attempt++) {
      const { rev, item: old } = state;

      if (old && old.expiresAt > now && old.venueId === venueId) {
        const refreshed = await this.refresh(old, input);
        if (refreshed) {
          this.known.set(userId, { rev, item: refreshed });
          return { presence: refreshed, changes: [], previousVenueId: null };
        }
      } else {
        const presence: PresenceRecord = {
          userId,
          venueId,
          lat: input.lat,
          lng: input.lng,
          wantsToBuy: input.wantsToBuy ?? false,
          wantsToReceive: input.wantsToReceive ?? false,
          visible: input.visible ?? true,
          checkedInAt: now,
          lastSeenAt: now,
          expiresAt: expiryFor(now, now, this.t),
          ...(input.nodeId !== undefined ? { nodeId: input.nodeId } : {}),
        };
        // Two check-ins of one user that both saw "no stay" must not both add one: the pointer's rev lets
        // only the first through (DynamoDB cannot condition on "no other item in the partition"). A move
        // or a replacement needs no pointer: its condition on the exact stay it replaces already lets
        // only one writer through, and a writer that saw no stay saw a rev that any stay created since
        // has bumped (a stay only ever comes from nothing through the pointer, or from another stay).
        // One item fewer per move: DynamoDB Local's cost (and a transaction's) grows with its items.
        // Never a rev the pointer had before, even once DynamoDB's TTL removed it and it starts again: a
        // node that remembers "no stay at rev r" from long ago must not see r come round (ABA).
        const nextRev = Math.max((rev ?? 0) + 1, now);
        const items: TransactItem[] = old
          ? []
          : [
              {
                Put: {
                  TableName: this.presenceTable,
                  Item: { userId, venueId: USER_ITEM, rev: nextRev, ttl: this.ttlOf(now + this.t.ttlMs) },
                  ConditionExpression: rev === undefined ? 'attribute_not_exists(userId)' : '#rev = :rev',
                  ...(rev === undefined ? {} : { ExpressionAttributeNames: { '#rev': 'rev' }, ExpressionAttributeValues: { ':rev': rev } }),
                },
              },
            ];
        const deltas: MembershipWrite['deltas'] = [];
        const sameVenue = old !== undefined && old.venueId === venueId;
        if (old && sameVenue) {
          // An expired stay here replaced in place: its -1 and our +1 cancel out, and a transaction may
          // not touch one item twice anyway.
          items.push({ Put: { TableName: this.presenceTable, Item: this.toItem(presence), ...this.exactExpiry(old) } });
        } else {
          if (old) {
            items.push({ Delete: { TableName: this.presenceTable, Key: { userId, venueId: old.venueId }, ...this.exactExpiry(old) } });
            deltas.push([old.venueId, -1]);
          }
          items.push({
            Put: { TableName: this.presenceTable, Item: this.toItem(presence), ConditionExpression: 'attribute_not_exists(userId)' },
          });
          deltas.push([venueId, +1]);
        }
        if (await this.batcher.submit({ userId, items, deltas, now })) {
          this.known.set(userId, { rev: old ? rev : nextRev, item: presence });
          if (sameVenue) return { presence, changes: [], previousVenueId: null };
          const previousVenueId = old ? old.venueId : null;
          const touched = previousVenueId ? [previousVenueId, venueId] : [venueId];
          return { presence, changes: await this.changesFor(touched), previousVenueId };
        }
      }
      // Someone changed the user since we knew them (another node, a sweep): read and decide again.
      if (fresh) await this.backoff(attempt, `check-in of ${userId}`);
      ({ state, fresh } = { state: await this.readUser(userId), fresh: true });
    }
  }

  /** Same venue again: position, flags and expiry only. Null when the stay ended meanwhile. */
  private async refresh(old: PresenceRecord, input: CheckInInput): Promise<PresenceRecord | null> {
    const expiresAt = Math.max(old.expiresAt, expiryFor(input.now, old.checkedInAt, this.t));
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.presenceTable,
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

  // ---- heartbeat / grace / flags ---------------------------------------------------------------

  async heartbeat(userId: string, now: number, pos?: { lat: number; lng: number }) {
    let { state, fresh } = await this.state(userId);
    for (let attempt = 1; ; attempt++) {
      const item = state.item;
      const next = item && item.expiresAt > now ? heartbeatExpiry(item, now, this.t) : null;
      if (item && next !== null) {
        const set: Record<string, unknown> = { lastSeenAt: now, expiresAt: next, ttl: this.ttlOf(next) };
        if (pos) Object.assign(set, { lat: pos.lat, lng: pos.lng });
        const updated = await this.updateIfUnchanged(item, now, set);
        if (updated) return { presence: updated, wrote: true };
      } else if (fresh) {
        // Nothing to write is decided on what is stored, never on a remembered copy.
        if (!item || item.expiresAt <= now) return { presence: null, wrote: false };
        return { presence: item, wrote: false };
      }
      if (fresh) await this.backoff(attempt, `heartbeat of ${userId}`);
      ({ state, fresh } = { state: await this.readUser(userId), fresh: true });
    }
  }

  async resume(userId: string, now: number, nodeId?: string): Promise<PresenceRecord | null> {
    let { state, fresh } = await this.state(userId);
    for (let attempt = 1; ; attempt++) {
      const item = state.item;
      if (item && item.expiresAt > now) {
        const next = heartbeatExpiry(item, now, this.t) ?? item.expiresAt;
        const updated = await this.updateIfUnchanged(item, now, {
          lastSeenAt: now,
          expiresAt: next,
          ttl: this.ttlOf(next),
          ...(nodeId !== undefined ? { [NODE_ATTRIBUTE]: nodeId } : {}),
        });
        if (updated) return updated;
      } else if (fresh) return null;
      if (fresh) await this.backoff(attempt, `resume of ${userId}`);
      ({ state, fresh } = { state: await this.readUser(userId), fresh: true });
    }
  }

  async expireAt(userId: string, at: number, now: number, opts: { unlessSeenAfter?: number } = {}): Promise<PresenceRecord | null> {
    let { state, fresh } = await this.state(userId);
    for (let attempt = 1; ; attempt++) {
      const item = state.item;
      const live = item !== undefined && item.expiresAt > now;
      const keep = live && (at >= item.expiresAt || (opts.unlessSeenAfter !== undefined && item.lastSeenAt > opts.unlessSeenAfter));
      if (fresh && !live) return null;
      if (fresh && keep) return item;
      if (live && !keep) {
        // Conditioned on lastSeenAt too: a takeover that kept the expiry must still stop this cut.
        const updated = await this.updateIfUnchanged(item, now, { expiresAt: at, ttl: this.ttlOf(at) }, opts.unlessSeenAfter !== undefined);
        if (updated) return updated;
      }
      if (fresh) await this.backoff(attempt, `expireAt of ${userId}`);
      ({ state, fresh } = { state: await this.readUser(userId), fresh: true });
    }
  }

  async update(userId: string, patch: PresencePatch, now: number): Promise<PresenceRecord | null> {
    let { state, fresh } = await this.state(userId);
    for (let attempt = 1; ; attempt++) {
      const item = state.item;
      const live = item !== undefined && item.expiresAt > now;
      const set: Record<string, unknown> = {};
      if (live) {
        for (const key of ['wantsToBuy', 'wantsToReceive', 'visible'] as const) {
          const v = patch[key];
          if (v !== undefined && v !== item[key]) set[key] = v;
        }
      }
      if (fresh && !live) return null;
      if (fresh && Object.keys(set).length === 0) return item ?? null;
      if (live && Object.keys(set).length > 0) {
        const updated = await this.updateIfUnchanged(item, now, set);
        if (updated) return updated;
      }
      if (fresh) await this.backoff(attempt, `update of ${userId}`);
      ({ state, fresh } = { state: await this.readUser(userId), fresh: true });
    }
  }

  /**
   * SET on the stay conditioned on its expiry being what we read and still in the future, so a
   * heartbeat cannot revive a stay the sweeper is ending, nor undo a concurrent grace shortening.
   */
  private async updateIfUnchanged(
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
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.presenceTable,
          Key: { userId: item.userId, venueId: item.venueId },
          UpdateExpression: `SET ${parts.join(', ')}`,
          ConditionExpression: `#exp = :old AND #cin = :cin AND #exp > :now${sameSeen ? ' AND #seenAt = :seenAt' : ''}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      const updated = fromItem(out.Attributes ?? {});
      this.known.setItem(item.userId, updated);
      return updated;
    } catch (err) {
      if (isConditionFailure(err)) return null;
      throw err;
    }
  }

  // ---- leave / sweep ---------------------------------------------------------------------------

  async leave(userId: string, now: number, expectedVenueId?: string) {
    let { state, fresh } = await this.state(userId);
    for (let attempt = 1; ; attempt++) {
      const item = state.item;
      if (item && (expectedVenueId === undefined || item.venueId === expectedVenueId)) {
        if (await this.end(item, now)) return { changes: await this.changesFor([item.venueId]), venueId: item.venueId };
      } else if (fresh) return { changes: [], venueId: null };
      if (fresh) await this.backoff(attempt, `leave of ${userId}`);
      ({ state, fresh } = { state: await this.readUser(userId), fresh: true });
    }
  }

  /**
   * Deletes exactly the stay that was read and decrements its venue, atomically (in the next batch).
   * False when the stay changed or is gone (another leave, sweep, move or heartbeat got there first).
   */
  private async end(item: Pick<PresenceRecord, 'userId' | 'venueId' | 'expiresAt'>, now: number): Promise<boolean> {
    const ok = await this.batcher.submit({
      userId: item.userId,
      items: [
        { Delete: { TableName: this.presenceTable, Key: { userId: item.userId, venueId: item.venueId }, ...this.exactExpiry(item) } },
      ],
      deltas: [[item.venueId, -1]],
      now,
    });
    if (ok) this.known.setItem(item.userId, undefined);
    return ok;
  }

  async sweepExpired(now: number, limit = 500, onEnded?: (ended: EndedStay) => void): Promise<CountChange[]> {
    const candidates: { userId: string; venueId: string; expiresAt: number }[] = [];
    const perShard = Math.max(1, Math.ceil(limit / this.expiryShards));
    await Promise.all(
      Array.from({ length: this.expiryShards }, async (_, shard) => {
        const out = await this.doc.send(
          new QueryCommand({
            TableName: this.presenceTable,
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
    const venues = new Set<string>();
    // Every end goes to the write batcher at once: they share transactions (and counter updates per
    // venue). A stay that another node ended first fails its condition; one that keeps conflicting is
    // left for the next sweep instead of failing the batch (whose other ends must still be broadcast).
    await Promise.all(
      candidates.slice(0, limit).map(async (c) => {
        try {
          if (await this.end(c, now)) {
            venues.add(c.venueId);
            onEnded?.({ userId: c.userId, venueId: c.venueId });
          }
        } catch (err) {
          if (!(err instanceof AppError && err.code === ErrorCode.CONFLICT)) throw err;
        }
      }),
    );
    return await this.changesFor([...venues]);
  }

  endNodeStays(nodeId: string, now: number, onEnded?: (ended: EndedStay) => void): Promise<CountChange[]> {
    return endNodeStays(
      {
        doc: this.doc,
        presenceTable: this.presenceTable,
        counterOp: (v, d, at) => this.counterOp(v, d, at),
        changesFor: (v) => this.changesFor(v),
      },
      nodeId,
      now,
      onEnded,
    );
  }

  // ---- reads -----------------------------------------------------------------------------------

  async get(userId: string, now: number): Promise<PresenceRecord | null> {
    const { item } = await this.readUser(userId);
    return item && item.expiresAt > now ? item : null;
  }

  async listVenue(venueId: string, now: number): Promise<PresenceRecord[]> {
    const out: PresenceRecord[] = [];
    let start: Item | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.presenceTable,
          IndexName: PRESENCE_BY_VENUE,
          KeyConditionExpression: '#v = :v AND #exp > :now',
          ExpressionAttributeNames: { '#v': 'venueId', '#exp': 'expiresAt' },
          ExpressionAttributeValues: { ':v': venueId, ':now': now },
          ExclusiveStartKey: start,
        }),
      );
      for (const it of page.Items ?? []) out.push(fromItem(it));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async getCounts(venueIds: string[]): Promise<Map<string, VenueCount>> {
    const rows = await this.readCounters(venueIds);
    return new Map(
      [...new Set(venueIds)].map((id) => {
        const r = rows.get(id);
        return [id, { count: r?.count ?? 0, version: r?.version ?? 0 }];
      }),
    );
  }

  /**
   * Reads each venue's shards in one TransactGetItems, so the shards are seen at one serial point.
   * That is what makes the summed version a total order: every counter write bumps exactly one
   * shard's version by one, so a snapshot's version is the number of changes before it, and two reads
   * with the same version have the same count. Separate reads of the shards (BatchGet) can mix
   * moments and give an equal version with another count, which clients would drop as not newer.
   */
  private async readCounters(venueIds: string[]): Promise<Map<string, CounterRow>> {
    const rows = new Map<string, CounterRow>();
    const venues = [...new Set(venueIds)];
    const perChunk = Math.max(1, Math.floor(MAX_TRANSACT_ITEMS / this.counterShards));
    const chunks: string[][] = [];
    for (let i = 0; i < venues.length; i += perChunk) chunks.push(venues.slice(i, i + perChunk));
    await mapLimit(chunks, 4, async (chunk) => {
      const keys = chunk.flatMap((venueId) => Array.from({ length: this.counterShards }, (_, shard) => ({ venueId, shard })));
      for (let attempt = 1; ; attempt++) {
        try {
          const out = await this.doc.send(
            new TransactGetCommand({ TransactItems: keys.map((Key) => ({ Get: { TableName: this.countsTable, Key } })) }),
          );
          for (const r of out.Responses ?? []) if (r.Item) addShard(rows, r.Item);
          return;
        } catch (err) {
          // A read that meets a transaction in flight on the same shards is cancelled; read again.
          if (!isConflict(err) && !(err instanceof Error && err.name === 'TransactionCanceledException')) throw err;
          if (attempt >= this.maxAttempts) throw new AppError(ErrorCode.CONFLICT, 'venue counters busy; try again', { cause: err });
          await sleep(jitter(attempt));
        }
      }
    });
    return rows;
  }

  /**
   * The counts after this node's own writes. Each needs a read that starts after its write; at a busy
   * venue the writers in flight together share one (see fresh-reads.ts), so a closing-time burst does
   * not turn into as many TransactGetItems, each racing the writes on the same shards.
   */
  private async changesFor(venueIds: string[]): Promise<CountChange[]> {
    const venues = [...new Set(venueIds)];
    const rows = await Promise.all(venues.map((venueId) => this.counterReads.get(venueId)));
    return venues.map((venueId, i) => ({ venueId, count: rows[i]?.count ?? 0, version: rows[i]?.version ?? 0 }));
  }

  // ---- reconcile -------------------------------------------------------------------------------

  async reconcile(now: number): Promise<Drift[]> {
    const before = new Map<string, CounterRow>();
    let start: Item | undefined;
    do {
      const page = await this.doc.send(new ScanCommand({ TableName: this.countsTable, ConsistentRead: true, ExclusiveStartKey: start }));
      for (const it of page.Items ?? []) addShard(before, it);
      start = page.LastEvaluatedKey;
    } while (start);

    const drift: Drift[] = [];
    await mapLimit([...before], 4, async ([venueId, row]) => {
      // The venue index trails writes by a moment: a counter changed recently may be right while the
      // index still misses the newest stays. Only a quiet venue is recounted; a busy one waits a run.
      if (now - row.updatedAt < this.settleMs) return;
      const actual = await this.countItems(venueId);
      const after = (await this.readCounters([venueId])).get(venueId);
      if (!after || after.version !== row.version) return;
      if (actual === row.count) return;
      if (await this.repair(venueId, after, actual - row.count, now)) drift.push({ venueId, stored: row.count, actual });
    });
    return drift;
  }

  /** Counts every stay recorded at the venue, expired ones included: the sweeper still owes their -1. */
  private async countItems(venueId: string): Promise<number> {
    let n = 0;
    let start: Item | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.presenceTable,
          IndexName: PRESENCE_BY_VENUE,
          KeyConditionExpression: '#v = :v',
          ExpressionAttributeNames: { '#v': 'venueId' },
          ExpressionAttributeValues: { ':v': venueId },
          Select: 'COUNT',
          ExclusiveStartKey: start,
        }),
      );
      n += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return n;
  }

  /** Applies the correction only if no shard changed since it was measured (else the next run retries). */
  private async repair(venueId: string, row: CounterRow, delta: number, now: number): Promise<boolean> {
    const ops: NonNullable<TransactWriteCommandInput['TransactItems']> = [];
    for (let shard = 0; shard < this.counterShards; shard++) {
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
            TableName: this.countsTable,
            Key: { venueId, shard },
            UpdateExpression: 'ADD #count :d, #ver :one SET #at = :now',
            ConditionExpression: condition.ConditionExpression,
            ExpressionAttributeNames: { '#count': 'count', '#ver': 'version', '#at': 'updatedAt' },
            ExpressionAttributeValues: { ':d': delta, ':one': 1, ':now': now, ...(version === undefined ? {} : { ':ver': version }) },
          },
        });
      } else {
        ops.push({ ConditionCheck: { TableName: this.countsTable, Key: { venueId, shard }, ...condition } });
      }
    }
    return await this.transact(ops);
  }

  // ---- maintenance -----------------------------------------------------------------------------

  async clear(): Promise<void> {
    this.known.clear();
    await Promise.all([this.deleteAll(this.presenceTable, ['userId', 'venueId']), this.deleteAll(this.countsTable, ['venueId', 'shard'])]);
  }

  private async deleteAll(table: string, keyNames: [string, string]): Promise<void> {
    let start: Item | undefined;
    do {
      const page = await this.doc.send(
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
          const out = await this.doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
          requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
          if (requests.length > 0) await sleep(jitter(attempt));
        }
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }

  async close(): Promise<void> {
    // The DynamoDB client is owned by whoever created it (shared with other stores).
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** The user's partition in one strongly consistent read: pointer + stay. */
  private async readUser(userId: string): Promise<UserState> {
    const out = await this.doc.send(
      new QueryCommand({
        TableName: this.presenceTable,
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
    this.known.set(userId, { rev, item });
    return { rev, item };
  }

  private toItem(p: PresenceRecord): Item {
    const { nodeId, ...stay } = p;
    return {
      ...stay,
      ...(nodeId !== undefined ? { [NODE_ATTRIBUTE]: nodeId } : {}),
      expShard: String(stableShard(p.userId, this.expiryShards)),
      ttl: this.ttlOf(p.expiresAt),
    };
  }

  private ttlOf(expiresAtMs: number): number {
    return Math.ceil(expiresAtMs / 1000) + this.ttlMarginS;
  }

  private exactExpiry(item: Pick<PresenceRecord, 'expiresAt'>) {
    return {
      ConditionExpression: '#exp = :exp',
      ExpressionAttributeNames: { '#exp': 'expiresAt' },
      ExpressionAttributeValues: { ':exp': item.expiresAt },
    };
  }

  /**
   * The counter update of membership changes: `delta` on one of this store's shards (slot 0 unless a
   * batch in flight holds it), the shard's version + `changes` (the number of changes merged into it).
   * Every path that changes membership uses this, so a venue's summed version counts its changes.
   */
  counterOp(venueId: string, delta: number, now: number, slot = 0, changes = 1) {
    return {
      Update: {
        TableName: this.countsTable,
        Key: { venueId, shard: (this.counterShard + slot) % this.counterShards },
        UpdateExpression: 'ADD #count :d, #ver :one SET #at = :now',
        ExpressionAttributeNames: { '#count': 'count', '#ver': 'version', '#at': 'updatedAt' },
        ExpressionAttributeValues: { ':d': delta, ':one': changes, ':now': now },
      },
    };
  }

  /**
   * True when committed, false when a condition failed or another transaction held an item (the
   * caller re-reads). The request token makes the SDK's own retries of a committed call idempotent.
   */
  private async transact(ops: NonNullable<TransactWriteCommandInput['TransactItems']>): Promise<boolean> {
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: ops, ClientRequestToken: randomUUID() }));
      return true;
    } catch (err) {
      if (isConditionFailure(err) || isConflict(err)) return false;
      throw err;
    }
  }

  private async backoff(attempt: number, what: string): Promise<void> {
    if (attempt >= this.maxAttempts) {
      throw new AppError(ErrorCode.CONFLICT, `Presence changed concurrently; ${what} gave up after ${attempt} attempts`);
    }
    await sleep(jitter(attempt));
  }
}

function fromItem(it: Item): PresenceRecord {
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

/** Stable, so a user's stay stays in one expiry partition across heartbeats (and a node keeps its counter shard). */
export function stableShard(s: string, n: number): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0) % n;
}

/** DynamoDB's limit on the items of one TransactGetItems / TransactWriteItems. */
const MAX_TRANSACT_ITEMS = 100;
