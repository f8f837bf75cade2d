import {
  assertVenueId,
  expiryFor,
  newStay,
  heartbeatExpiry,
  type CheckInInput,
  type StayCheckIn,
  type VenueCount,
  type Drift,
  type EndedStay,
  type PresencePatch,
  type PresenceRecord,
  type PresenceStore,
  type PresenceTimings,
  type StoredCount,
} from './presence-store';

export interface MemoryPresenceStoreOptions extends PresenceTimings {}

/**
 * In-process presence for embedded (single-node) mode. Every method does its reads and writes without
 * an await in between, so each is atomic in Node's single thread — the property DynamoDB transactions
 * give the other implementation.
 */
export class MemoryPresenceStore implements PresenceStore {
  private readonly byUser = new Map<string, PresenceRecord>();
  /** Protected so the tests' drift simulation (test/presence/drifting-memory-store.ts) can reach it. */
  protected readonly counts = new Map<string, StoredCount>();
  private readonly t: PresenceTimings;

  constructor(opts: MemoryPresenceStoreOptions) {
    this.t = {
      timeoutMs: opts.timeoutMs,
      ttlMs: opts.ttlMs,
      ...(opts.refreshBelowMs !== undefined ? { refreshBelowMs: opts.refreshBelowMs } : {}),
    };
  }

  private bump(venueId: string, delta: number): VenueCount {
    const c = this.counts.get(venueId) ?? { count: 0, version: 0 };
    const next = { count: c.count + delta, version: c.version + 1 };
    this.counts.set(venueId, next);
    return { venueId, ...next };
  }

  private live(userId: string, now: number): PresenceRecord | null {
    const p = this.byUser.get(userId);
    return p && p.expiresAt > now ? p : null;
  }

  async checkIn(input: CheckInInput): Promise<StayCheckIn> {
    assertVenueId(input.venueId);
    const { userId, venueId, now } = input;
    const old = this.byUser.get(userId);
    const oldLive = old !== undefined && old.expiresAt > now;
    if (old && oldLive && old.venueId === venueId) {
      const presence: PresenceRecord = {
        ...old,
        lat: input.lat,
        lng: input.lng,
        wantsToBuy: input.wantsToBuy ?? old.wantsToBuy,
        wantsToReceive: input.wantsToReceive ?? old.wantsToReceive,
        visible: input.visible ?? old.visible,
        lastSeenAt: now,
        ...(input.nodeId !== undefined ? { nodeId: input.nodeId } : {}),
        expiresAt: Math.max(old.expiresAt, expiryFor(now, old.checkedInAt, this.t)),
      };
      this.byUser.set(userId, presence);
      return { presence, changes: [], previousVenueId: null };
    }
    const presence = newStay(input, this.t);
    this.byUser.set(userId, presence);
    // An expired stay at the same venue is replaced in place: -1 and +1 cancel out.
    if (old && old.venueId === venueId) return { presence, changes: [], previousVenueId: null };
    const changes: VenueCount[] = [];
    if (old) changes.push(this.bump(old.venueId, -1));
    changes.push(this.bump(venueId, +1));
    return { presence, changes, previousVenueId: old ? old.venueId : null };
  }

  async heartbeat(userId: string, now: number, pos?: { lat: number; lng: number }) {
    const p = this.live(userId, now);
    if (!p) return { presence: null, wrote: false };
    const next = heartbeatExpiry(p, now, this.t);
    if (next === null) return { presence: p, wrote: false };
    const presence = { ...p, ...(pos ? { lat: pos.lat, lng: pos.lng } : {}), lastSeenAt: now, expiresAt: next };
    this.byUser.set(userId, presence);
    return { presence, wrote: true };
  }

  async leave(userId: string, _now: number, expectedVenueId?: string) {
    const p = this.byUser.get(userId);
    if (!p || (expectedVenueId !== undefined && p.venueId !== expectedVenueId)) return { changes: [], venueId: null };
    this.byUser.delete(userId);
    return { changes: [this.bump(p.venueId, -1)], venueId: p.venueId };
  }

  async resume(userId: string, now: number, nodeId?: string): Promise<PresenceRecord | null> {
    const p = this.live(userId, now);
    if (!p) return null;
    const presence = {
      ...p,
      lastSeenAt: now,
      expiresAt: heartbeatExpiry(p, now, this.t) ?? p.expiresAt,
      ...(nodeId !== undefined ? { nodeId } : {}),
    };
    this.byUser.set(userId, presence);
    return presence;
  }

  async expireAt(userId: string, at: number, now: number, opts: { unlessSeenAfter?: number } = {}): Promise<PresenceRecord | null> {
    const p = this.live(userId, now);
    if (!p) return null;
    if (at >= p.expiresAt) return p;
    if (opts.unlessSeenAfter !== undefined && p.lastSeenAt > opts.unlessSeenAfter) return p;
    const presence = { ...p, expiresAt: at };
    this.byUser.set(userId, presence);
    return presence;
  }

  async update(userId: string, patch: PresencePatch, now: number): Promise<PresenceRecord | null> {
    const p = this.live(userId, now);
    if (!p) return null;
    const presence = {
      ...p,
      wantsToBuy: patch.wantsToBuy ?? p.wantsToBuy,
      wantsToReceive: patch.wantsToReceive ?? p.wantsToReceive,
      visible: patch.visible ?? p.visible,
    };
    this.byUser.set(userId, presence);
    return presence;
  }

  async get(userId: string, now: number): Promise<PresenceRecord | null> {
    return this.live(userId, now);
  }

  async listVenue(venueId: string, now: number): Promise<PresenceRecord[]> {
    return [...this.byUser.values()].filter((p) => p.venueId === venueId && p.expiresAt > now);
  }

  async getCounts(venueIds: string[]): Promise<Map<string, StoredCount>> {
    return new Map(venueIds.map((id) => [id, { ...(this.counts.get(id) ?? { count: 0, version: 0 }) }]));
  }

  async sweepExpired(now: number, limit = 500, onEnded?: (ended: EndedStay) => void): Promise<VenueCount[]> {
    const changed = new Map<string, VenueCount>();
    let ended = 0;
    for (const p of this.byUser.values()) {
      if (ended >= limit) break;
      if (p.expiresAt > now) continue;
      this.byUser.delete(p.userId);
      changed.set(p.venueId, this.bump(p.venueId, -1));
      onEnded?.({ userId: p.userId, venueId: p.venueId });
      ended++;
    }
    return [...changed.values()];
  }

  async endNodeStays(nodeId: string, _now: number, onEnded?: (ended: EndedStay) => void): Promise<VenueCount[]> {
    const changed = new Map<string, VenueCount>();
    for (const p of [...this.byUser.values()]) {
      if (p.nodeId !== nodeId) continue;
      this.byUser.delete(p.userId);
      changed.set(p.venueId, this.bump(p.venueId, -1));
      onEnded?.({ userId: p.userId, venueId: p.venueId });
    }
    return [...changed.values()];
  }

  async reconcile(_now: number): Promise<Drift[]> {
    const actual = new Map<string, number>();
    for (const p of this.byUser.values()) actual.set(p.venueId, (actual.get(p.venueId) ?? 0) + 1);
    const drift: Drift[] = [];
    for (const venueId of new Set([...this.counts.keys(), ...actual.keys()])) {
      const stored = this.counts.get(venueId)?.count ?? 0;
      const real = actual.get(venueId) ?? 0;
      if (stored === real) continue;
      this.bump(venueId, real - stored);
      drift.push({ venueId, stored, actual: real });
    }
    return drift;
  }

  async clear(): Promise<void> {
    this.byUser.clear();
    this.counts.clear();
  }

  async close(): Promise<void> {}
}
