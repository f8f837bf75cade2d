import { randomUUID } from 'node:crypto';
import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ErrorCode } from '../../protocol/errors';
import { AppError } from '../errors';
import { NODE_ATTRIBUTE, tableName } from '../storage/dynamo-tables';
import { AGAIN, AGAIN_NOW, retryOnRace, type Again } from '../storage/dynamo-errors';
import { endNodeStays } from './dynamo-node-stays';
import {
  assertVenueId,
  newStay,
  heartbeatExpiry,
  type CheckInInput,
  type VenueCount,
  type Drift,
  type EndedStay,
  type PresencePatch,
  type PresenceRecord,
  type PresenceStore,
  type PresenceTimings,
  type StayCheckIn,
  type StoredCount,
} from './presence-store';
import { WriteBatcher, type MembershipWrite, type TransactItem } from './dynamo-write-batch';
import { deleteAll, StayTable, USER_ITEM } from './dynamo-stay-table';
import { VenueCounters } from './dynamo-venue-counters';
import { UserStateCache, type UserState } from './user-state-cache';

export { stableShard } from './dynamo-stay-table';

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
 * Counter sharding: see dynamo-venue-counters.ts. Single-item reads and updates of stays: see
 * dynamo-stay-table.ts.
 *
 * Expiry index: presence items carry `expShard` (hash of userId mod expiryShards) and `expiresAt`,
 * keys of the sparse GSI byExpiry. The sweeper queries each shard for `expiresAt <= now` and gets
 * only expired items, oldest first — no Scan. The GSI is eventually consistent, so each end is a
 * delete conditioned on the exact expiresAt read: a stale or already-ended entry just fails it.
 */
export class DynamoPresenceStore implements PresenceStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly t: PresenceTimings;
  private readonly maxAttempts: number;
  private readonly stays: StayTable;
  private readonly counters: VenueCounters;
  private readonly batcher: WriteBatcher;
  private readonly known: UserStateCache;

  constructor(opts: DynamoPresenceStoreOptions) {
    this.doc = opts.doc;
    const doc = opts.doc;
    this.t = {
      timeoutMs: opts.timeoutMs,
      ttlMs: opts.ttlMs,
      ...(opts.refreshBelowMs !== undefined ? { refreshBelowMs: opts.refreshBelowMs } : {}),
    };
    this.maxAttempts = opts.maxAttempts ?? 25;
    const counterShards = opts.counterShards ?? 4;
    this.stays = new StayTable({
      doc,
      table: tableName(opts.tablePrefix, 'presence'),
      expiryShards: opts.expiryShards ?? 16,
      ttlMarginS: opts.ttlMarginSeconds ?? 3600,
    });
    this.counters = new VenueCounters({
      doc,
      table: tableName(opts.tablePrefix, 'venue-counts'),
      shards: counterShards,
      firstShard: (opts.counterShard ?? Math.floor(Math.random() * counterShards)) % counterShards,
      maxAttempts: this.maxAttempts,
      settleMs: opts.reconcileSettleMs ?? 10_000,
      countStays: (venueId) => this.stays.countStays(venueId),
    });
    this.known = new UserStateCache(opts.stateCacheSize ?? 100_000);
    this.batcher = new WriteBatcher({
      send: async (items) => void (await doc.send(new TransactWriteCommand({ TransactItems: items, ClientRequestToken: randomUUID() }))),
      counterOp: (venueId, delta, slot, now, changes) => this.counters.op(venueId, delta, now, slot, changes),
      windowMs: opts.writeWindowMs ?? 2,
      maxInFlight: opts.writeSlots ?? 2,
      maxAttempts: this.maxAttempts,
      ...(opts.onWriteBatch ? { onCommit: opts.onWriteBatch } : {}),
      ...(opts.onWriteWait ? { onWait: opts.onWriteWait } : {}),
    });
  }

  /**
   * Runs one read-decide-write step of `userId` until it returns a value. The first try goes by the
   * user's state as this store last wrote or read it (writes built from it carry it as their
   * precondition); a step that fails on that only learns "read first" and runs again at once on a
   * fresh read. A failure on a fresh read is a real race: AGAIN pauses, and after maxAttempts the
   * caller gets CONFLICT. `fresh` also says whether "nothing to write" may be decided: only on what
   * is stored, never on a remembered copy.
   */
  private async onUser<T>(userId: string, what: string, step: (state: UserState, fresh: boolean) => Promise<T | undefined>): Promise<T> {
    let state = this.known.get(userId);
    let fresh = false;
    const retry = { maxAttempts: this.maxAttempts, what: `Presence changed concurrently; ${what} of ${userId}` };
    return await retryOnRace(retry, async (attempt): Promise<T | Again> => {
      if (attempt > 1 || !state) {
        state = await this.readUser(userId);
        fresh = true;
      }
      const out = await step(state, fresh);
      if (out !== undefined) return out;
      // Someone changed the user since we knew them (another node, a sweep): read and decide again.
      return fresh ? AGAIN : AGAIN_NOW;
    });
  }

  // ---- check-in / move -------------------------------------------------------------------------

  async checkIn(input: CheckInInput): Promise<StayCheckIn> {
    assertVenueId(input.venueId);
    const { userId, venueId, now } = input;
    return await this.onUser(userId, 'check-in', async ({ rev, item: old }) => {
      if (old && old.expiresAt > now && old.venueId === venueId) {
        const refreshed = await this.stays.refresh(old, input, this.t);
        if (!refreshed) return undefined;
        this.known.set(userId, { rev, item: refreshed });
        return { presence: refreshed, changes: [], previousVenueId: null };
      }
      const presence = newStay(input, this.t);
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
                TableName: this.stays.table,
                Item: { userId, venueId: USER_ITEM, rev: nextRev, ttl: this.stays.ttlOf(now + this.t.ttlMs) },
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
        items.push({ Put: { TableName: this.stays.table, Item: this.stays.toItem(presence), ...this.stays.exactExpiry(old) } });
      } else {
        if (old) {
          items.push({ Delete: { TableName: this.stays.table, Key: { userId, venueId: old.venueId }, ...this.stays.exactExpiry(old) } });
          deltas.push([old.venueId, -1]);
        }
        items.push({
          Put: { TableName: this.stays.table, Item: this.stays.toItem(presence), ConditionExpression: 'attribute_not_exists(userId)' },
        });
        deltas.push([venueId, +1]);
      }
      if (await this.batcher.submit({ userId, items, deltas, now })) {
        this.known.set(userId, { rev: old ? rev : nextRev, item: presence });
        if (sameVenue) return { presence, changes: [], previousVenueId: null };
        const previousVenueId = old ? old.venueId : null;
        const touched = previousVenueId ? [previousVenueId, venueId] : [venueId];
        return { presence, changes: await this.counters.changesFor(touched), previousVenueId };
      }
      return undefined;
    });
  }

  // ---- heartbeat / grace / flags ---------------------------------------------------------------

  async heartbeat(userId: string, now: number, pos?: { lat: number; lng: number }) {
    return await this.onUser(userId, 'heartbeat', async ({ item }, fresh) => {
      const next = item && item.expiresAt > now ? heartbeatExpiry(item, now, this.t) : null;
      if (item && next !== null) {
        const set: Record<string, unknown> = { lastSeenAt: now, expiresAt: next, ttl: this.stays.ttlOf(next) };
        if (pos) Object.assign(set, { lat: pos.lat, lng: pos.lng });
        const updated = await this.updateIfUnchanged(item, now, set);
        return updated ? { presence: updated, wrote: true } : undefined;
      }
      if (!fresh) return undefined;
      // Nothing to write is decided on what is stored, never on a remembered copy.
      if (!item || item.expiresAt <= now) return { presence: null, wrote: false };
      return { presence: item, wrote: false };
    });
  }

  async resume(userId: string, now: number, nodeId?: string): Promise<PresenceRecord | null> {
    return await this.onUser(userId, 'resume', async ({ item }, fresh) => {
      if (item && item.expiresAt > now) {
        const next = heartbeatExpiry(item, now, this.t) ?? item.expiresAt;
        const updated = await this.updateIfUnchanged(item, now, {
          lastSeenAt: now,
          expiresAt: next,
          ttl: this.stays.ttlOf(next),
          ...(nodeId !== undefined ? { [NODE_ATTRIBUTE]: nodeId } : {}),
        });
        return updated ?? undefined;
      }
      return fresh ? null : undefined;
    });
  }

  async expireAt(userId: string, at: number, now: number, opts: { unlessSeenAfter?: number } = {}): Promise<PresenceRecord | null> {
    return await this.onUser(userId, 'expireAt', async ({ item }, fresh) => {
      const live = item !== undefined && item.expiresAt > now;
      const keep = live && (at >= item.expiresAt || (opts.unlessSeenAfter !== undefined && item.lastSeenAt > opts.unlessSeenAfter));
      if (fresh && !live) return null;
      if (fresh && keep) return item;
      if (live && !keep) {
        // Conditioned on lastSeenAt too: a takeover that kept the expiry must still stop this cut.
        const set = { expiresAt: at, ttl: this.stays.ttlOf(at) };
        return (await this.updateIfUnchanged(item, now, set, opts.unlessSeenAfter !== undefined)) ?? undefined;
      }
      return undefined;
    });
  }

  async update(userId: string, patch: PresencePatch, now: number): Promise<PresenceRecord | null> {
    return await this.onUser(userId, 'update', async ({ item }, fresh) => {
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
      if (live && Object.keys(set).length > 0) return (await this.updateIfUnchanged(item, now, set)) ?? undefined;
      return undefined;
    });
  }

  /** The stay's conditional update (dynamo-stay-table.ts), remembered as this store's latest copy when it went through. */
  private async updateIfUnchanged(item: PresenceRecord, now: number, set: Record<string, unknown>, sameSeen = false) {
    const updated = await this.stays.updateIfUnchanged(item, now, set, sameSeen);
    if (updated) this.known.setItem(item.userId, updated);
    return updated;
  }

  // ---- leave / sweep ---------------------------------------------------------------------------

  async leave(userId: string, now: number, expectedVenueId?: string) {
    return await this.onUser(userId, 'leave', async ({ item }, fresh) => {
      if (item && (expectedVenueId === undefined || item.venueId === expectedVenueId)) {
        if (await this.end(item, now)) return { changes: await this.counters.changesFor([item.venueId]), venueId: item.venueId };
        return undefined;
      }
      return fresh ? { changes: [], venueId: null } : undefined;
    });
  }

  /**
   * Deletes exactly the stay that was read and decrements its venue, atomically (in the next batch).
   * False when the stay changed or is gone (another leave, sweep, move or heartbeat got there first).
   */
  private async end(item: Pick<PresenceRecord, 'userId' | 'venueId' | 'expiresAt'>, now: number): Promise<boolean> {
    const ok = await this.batcher.submit({
      userId: item.userId,
      items: [
        { Delete: { TableName: this.stays.table, Key: { userId: item.userId, venueId: item.venueId }, ...this.stays.exactExpiry(item) } },
      ],
      deltas: [[item.venueId, -1]],
      now,
    });
    if (ok) this.known.setItem(item.userId, undefined);
    return ok;
  }

  async sweepExpired(now: number, limit = 500, onEnded?: (ended: EndedStay) => void): Promise<VenueCount[]> {
    const candidates = await this.stays.expired(now, limit);
    const venues = new Set<string>();
    // Every end goes to the write batcher at once: they share transactions (and counter updates per
    // venue). A stay that another node ended first fails its condition; one that keeps conflicting is
    // left for the next sweep instead of failing the batch (whose other ends must still be broadcast).
    await Promise.all(
      candidates.map(async (c) => {
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
    return await this.counters.changesFor([...venues]);
  }

  endNodeStays(nodeId: string, now: number, onEnded?: (ended: EndedStay) => void): Promise<VenueCount[]> {
    return endNodeStays(
      {
        doc: this.doc,
        presenceTable: this.stays.table,
        counterOp: (v, d, at) => this.counters.op(v, d, at),
        changesFor: (v) => this.counters.changesFor(v),
      },
      nodeId,
      now,
      onEnded,
    );
  }

  // ---- reads, counters, maintenance ------------------------------------------------------------

  async get(userId: string, now: number): Promise<PresenceRecord | null> {
    const { item } = await this.readUser(userId);
    return item && item.expiresAt > now ? item : null;
  }

  listVenue(venueId: string, now: number): Promise<PresenceRecord[]> {
    return this.stays.listVenue(venueId, now);
  }

  getCounts(venueIds: string[]): Promise<Map<string, StoredCount>> {
    return this.counters.getCounts(venueIds);
  }

  reconcile(now: number): Promise<Drift[]> {
    return this.counters.reconcile(now);
  }

  /** The counter update of membership changes (see VenueCounters.op). */
  counterOp(venueId: string, delta: number, now: number, slot = 0, changes = 1) {
    return this.counters.op(venueId, delta, now, slot, changes);
  }

  async clear(): Promise<void> {
    this.known.clear();
    await Promise.all([
      deleteAll(this.doc, this.stays.table, ['userId', 'venueId']),
      deleteAll(this.doc, this.counters.table, ['venueId', 'shard']),
    ]);
  }

  async close(): Promise<void> {
    // The DynamoDB client is owned by whoever created it (shared with other stores).
  }

  /** The user's partition as stored, remembered as this store's latest copy. */
  private async readUser(userId: string): Promise<UserState> {
    const state = await this.stays.readUser(userId);
    this.known.set(userId, state);
    return state;
  }
}
