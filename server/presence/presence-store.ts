import type { VenueCount } from '../../protocol/events';
import { ErrorCode } from '../../protocol/errors';
import { AppError } from '../errors';

/**
 * The presence seam: who is checked in where, and the live count per venue. The socket layer calls it;
 * `MemoryPresenceStore` (embedded mode) and `DynamoPresenceStore` (cluster mode) implement it with the
 * same semantics, proved by one contract suite (test/presence/presence-store.contract.ts).
 *
 * Times are epoch milliseconds passed in by the caller (`now`), so tests and the sweeper control the clock.
 *
 * Expiry: a presence ends at min(last written heartbeat + timeout, checkedInAt + ttl) — `expiresAt`.
 * Reads ignore expired presences; the counter keeps counting one until the sweeper (or a leave / a new
 * check-in by the same user) ends it, which decrements exactly once. So a venue's count equals its
 * unexpired check-ins, lagging an expiry by at most one sweep interval.
 */
export interface PresenceRecord {
  userId: string;
  venueId: string;
  lat: number;
  lng: number;
  wantsToBuy: boolean;
  wantsToReceive: boolean;
  /** false hides the user from the venue's people list; they are still counted. */
  visible: boolean;
  /** Start of this stay. A repeated check-in at the same venue keeps it, so replays cannot extend the ttl cap. */
  checkedInAt: number;
  /** Last time a check-in, move or heartbeat was written (heartbeats write at most every timeout/2). */
  lastSeenAt: number;
  /** min(lastSeenAt + timeout, checkedInAt + ttl), or earlier after `expireAt` (closed socket grace). */
  expiresAt: number;
  /**
   * The node (incarnation) holding the socket of this stay: set by check-in, move and resume, kept by
   * heartbeats and flag updates. When that node's lease lapses, a survivor ends its stays (node-reaper.ts).
   */
  nodeId?: string;
}

/**
 * A venue's absolute count after a change, with a per-venue version that never goes backwards: the
 * very shape the wire carries (`venue:count`, `venue:counts`), so the store returns the protocol's type
 * and the fan-out sends it on as it is.
 */
export type { VenueCount } from '../../protocol/events';

/** A venue's count as the store holds it (the wire's `VenueCount` adds the venue id). */
export interface StoredCount {
  count: number;
  version: number;
}

export interface CheckInInput {
  userId: string;
  venueId: string;
  lat: number;
  lng: number;
  /** Omitted flags keep their current value on a same-venue check-in, else default to false / false / true. */
  wantsToBuy?: boolean;
  wantsToReceive?: boolean;
  visible?: boolean;
  now: number;
  /** The node holding the user's socket (see PresenceRecord.nodeId). */
  nodeId?: string;
}

/** What a check-in did in the store (the wire's `CheckInResult` is the client's view of it). */
export interface StayCheckIn {
  presence: PresenceRecord;
  /** One entry per venue whose count changed: a move gives both venues, in one atomic step. */
  changes: VenueCount[];
  /** The venue whose stay this check-in ended (a move, or an expired stay elsewhere); null otherwise. */
  previousVenueId: string | null;
}

/** A stay the sweeper ended: who, and where they no longer are. */
export interface EndedStay {
  userId: string;
  venueId: string;
}

export interface PresencePatch {
  wantsToBuy?: boolean;
  wantsToReceive?: boolean;
  visible?: boolean;
}

export interface Drift {
  venueId: string;
  /** What the counter said. */
  stored: number;
  /** Presences actually recorded there (expired but unswept ones included: the sweeper still owes their -1). */
  actual: number;
}

export interface PresenceStore {
  /**
   * Checks in. A new stay counts +1; a move from another venue is one atomic step (old -1 and new +1
   * together, never one without the other); the same venue again only refreshes position, flags and
   * expiry (no count change), so a duplicated or replayed check-in is harmless.
   */
  checkIn(input: CheckInInput): Promise<StayCheckIn>;

  /**
   * "Still here". Writes only when the stored expiry has less than timeout/2 left and would move
   * forward (so a client heartbeating every 30 s writes about once per 5 minutes); the position is
   * saved only with such a write. An expired or missing presence is not revived: `presence` is null.
   */
  heartbeat(userId: string, now: number, pos?: { lat: number; lng: number }): Promise<{ presence: PresenceRecord | null; wrote: boolean }>;

  /**
   * Ends the user's stay (expired or not, since it still counts until ended). Idempotent. With
   * `expectedVenueId`, a stay at another venue is left alone (a late leave must not undo a newer check-in).
   */
  leave(userId: string, now: number, expectedVenueId?: string): Promise<{ changes: VenueCount[]; venueId: string | null }>;

  /**
   * A new connection of the user takes the stay over (the app reconnected, perhaps on another node):
   * like a heartbeat that always writes, so `lastSeenAt` marks the takeover and a grace cut is undone.
   * Null when there is no unexpired stay. With `nodeId`, the stay now belongs to that node.
   */
  resume(userId: string, now: number, nodeId?: string): Promise<PresenceRecord | null>;

  /**
   * Brings the end of an unexpired stay forward to `at` (never later): a closed socket's grace period.
   * A heartbeat or check-in before `at` extends it again; otherwise the sweeper ends it, even if this
   * node dies. With `unlessSeenAfter`, a stay written since then (by another connection: a phone that
   * changed networks reconnects before its old socket is noticed dead) is left alone.
   * Returns the presence, or null when there is no unexpired one.
   */
  expireAt(userId: string, at: number, now: number, opts?: { unlessSeenAfter?: number }): Promise<PresenceRecord | null>;

  /** Changes flags without checking in again; null when not (or no longer) checked in. Unchanged flags write nothing. */
  update(userId: string, patch: PresencePatch, now: number): Promise<PresenceRecord | null>;

  /** The user's unexpired presence. */
  get(userId: string, now: number): Promise<PresenceRecord | null>;

  /** Unexpired presences at a venue, hidden ones included (callers filter on `visible`). The DynamoDB one reads an index: it may trail a write by a moment. */
  listVenue(venueId: string, now: number): Promise<PresenceRecord[]>;

  /** Counter values; a venue never seen is { count: 0, version: 0 }. Every requested id is in the map. */
  getCounts(venueIds: string[]): Promise<Map<string, StoredCount>>;

  /**
   * Ends presences whose expiry is <= now, each exactly once even when several nodes sweep at the same
   * time, decrementing its venue in the same atomic step. Returns one change per affected venue.
   * At most `limit` presences per call (default 500); call again when it returned changes.
   * `onEnded` hears each stay this call ended (not ones another node ended), so the durable record,
   * friends and the venue's people list can follow.
   */
  sweepExpired(now: number, limit?: number, onEnded?: (ended: EndedStay) => void): Promise<VenueCount[]>;

  /**
   * A dead node's stays: ends each stay still owned by `nodeId` exactly once (conditioned on `node` and
   * the stay being unchanged since read, so a phone that resumed on another node keeps it), decrementing
   * its venue in the same atomic step. Returns one change per affected venue; `onEnded` as for the sweeper.
   */
  endNodeStays(nodeId: string, now: number, onEnded?: (ended: EndedStay) => void): Promise<VenueCount[]>;

  /**
   * Recounts the presences of each venue with a counter, repairs counters that disagree and returns the
   * drift found and repaired. Safe to run next to live traffic; a venue changing while it is recounted
   * is left for the next run.
   */
  reconcile(now: number): Promise<Drift[]>;

  /** Removes every presence and counter (tests, dev reset). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

export interface PresenceTimings {
  /**
   * A presence whose stored expiry was not renewed ends this long after the last renewal. The server
   * passes its lease here (PRESENCE_TIMEOUT_SECONDS plus PRESENCE_LEASE_EXTRA_SECONDS) and enforces the
   * exact heartbeat timeout in the memory of the node holding the socket (realtime/liveness-tracker.ts).
   */
  timeoutMs: number;
  /** PRESENCE_TTL_SECONDS in ms: a stay ends this long after check-in whatever the heartbeats. */
  ttlMs: number;
  /** A heartbeat writes only when less than this is left of the stored expiry (default timeoutMs / 2). */
  refreshBelowMs?: number;
}

/** The expiry rule both implementations share. */
export function expiryFor(lastSeenAt: number, checkedInAt: number, t: PresenceTimings): number {
  return Math.min(lastSeenAt + t.timeoutMs, checkedInAt + t.ttlMs);
}

/** A new stay from a check-in (the same in both implementations): defaults for the flags left out. */
export function newStay(input: CheckInInput, t: PresenceTimings): PresenceRecord {
  const { now } = input;
  return {
    userId: input.userId,
    venueId: input.venueId,
    lat: input.lat,
    lng: input.lng,
    wantsToBuy: input.wantsToBuy ?? false,
    wantsToReceive: input.wantsToReceive ?? false,
    visible: input.visible ?? true,
    checkedInAt: now,
    lastSeenAt: now,
    expiresAt: expiryFor(now, now, t),
    ...(input.nodeId !== undefined ? { nodeId: input.nodeId } : {}),
  };
}

/** The heartbeat write rule both implementations share: the new expiry, or null when nothing must be written. */
export function heartbeatExpiry(p: PresenceRecord, now: number, t: PresenceTimings): number | null {
  const next = expiryFor(now, p.checkedInAt, t);
  if (next <= p.expiresAt) return null;
  if (p.expiresAt - now >= (t.refreshBelowMs ?? t.timeoutMs / 2)) return null;
  return next;
}

export function timingsFromConfig(c: { PRESENCE_TIMEOUT_SECONDS: number; PRESENCE_TTL_SECONDS: number }): PresenceTimings {
  return { timeoutMs: c.PRESENCE_TIMEOUT_SECONDS * 1000, ttlMs: c.PRESENCE_TTL_SECONDS * 1000 };
}

/**
 * The server's timings: a stored lease a little longer than the heartbeat timeout, renewed only in its
 * last moments. Heartbeats in between cost no write; the node holding the socket ends the stay exactly
 * at the timeout, and if that node dies the lease ends it at most PRESENCE_LEASE_EXTRA_SECONDS later.
 */
export function leaseTimings(c: {
  PRESENCE_TIMEOUT_SECONDS: number;
  PRESENCE_TTL_SECONDS: number;
  PRESENCE_LEASE_EXTRA_SECONDS: number;
  PRESENCE_LEASE_REFRESH_SECONDS: number;
  PRESENCE_HEARTBEAT_WRITES?: 'lease' | 'every' | undefined;
}): PresenceTimings {
  const timeoutMs = (c.PRESENCE_TIMEOUT_SECONDS + c.PRESENCE_LEASE_EXTRA_SECONDS) * 1000;
  // `every` (the naive baseline): a lease that is always "near its end" makes the liveness tracker
  // ask the store on each heartbeat and the store write each time — one switch for both layers.
  const refreshBelowMs =
    c.PRESENCE_HEARTBEAT_WRITES === 'every' ? Number.POSITIVE_INFINITY : Math.min(c.PRESENCE_LEASE_REFRESH_SECONDS * 1000, timeoutMs / 2);
  return { timeoutMs, ttlMs: c.PRESENCE_TTL_SECONDS * 1000, refreshBelowMs };
}

/** DynamoDB sort keys starting with '#' are reserved for the store's own items. */
export function assertVenueId(venueId: string): void {
  if (venueId.length === 0 || venueId.startsWith('#') || venueId.length > 256) {
    throw new AppError(ErrorCode.VALIDATION, `invalid venueId ${JSON.stringify(venueId)}`);
  }
}
